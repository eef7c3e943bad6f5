using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// Forwards one connection to a server and keeps what the server sent, so a test can see which version the handshake
/// chose and which frames carried the responses.
/// </summary>
internal sealed class RecordingRelay : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly IPEndPoint _target;
    private readonly List<byte> _fromServer = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public RecordingRelay(IPEndPoint target)
    {
        _target = target;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        Address = new Uri($"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}");
        _running = RunAsync();
    }

    public Uri Address { get; }

    /// <summary>The version the server's ACCEPT named, and the type of every frame the server sent after it.</summary>
    public (byte Version, List<FrameType> Frames) Recorded()
    {
        var (version, headers) = RecordedHeaders();
        return (version, headers.ConvertAll(header => header.Type));
    }

    /// <summary>The version the server's ACCEPT named, and the header of every frame the server sent after it.</summary>
    public (byte Version, List<FrameHeader> Frames) RecordedHeaders()
    {
        byte[] bytes;
        lock (_fromServer)
        {
            bytes = [.. _fromServer];
        }

        Assert.True(bytes.Length >= Wire.HandshakePrefixLength, "The server sent no handshake.");
        Assert.Equal(Wire.Accept, bytes[5]);
        var input = new ReadOnlySequence<byte>(bytes, Wire.HandshakePrefixLength + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)), bytes.Length - Wire.HandshakePrefixLength - BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        var codec = TestCodecs.NewTwoPart();
        var frames = new List<FrameHeader>();
        while (codec.TryRead(ref input, FrameLimits.Default, out var frame))
        {
            frames.Add(FrameHeader.Read(frame.Header));
        }

        return (bytes[4], frames);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _running.WaitAsync(Echo.Bound).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            using var client = await _listener.AcceptAsync(_stop.Token);
            using var server = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await server.ConnectAsync(_target, _stop.Token);
            await Task.WhenAll(PumpAsync(client, server, null), PumpAsync(server, client, _fromServer));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The test is over, or a side closed.
        }
    }

    private async Task PumpAsync(Socket from, Socket to, List<byte>? record)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (record is not null)
                {
                    lock (record)
                    {
                        record.AddRange(buffer.AsSpan(0, n));
                    }
                }

                await to.SendAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Either side went away.
        }
    }
}
