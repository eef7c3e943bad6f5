using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A peer over a raw socket that completes the handshake, then sends one kind of frame in a loop and never reads a
/// byte: the peer of docs/protocol/tcp.md's "a peer that does not read". It stops on its own after a time limit; with
/// <c>reconnect</c> it opens a new connection each time the server closes one.
/// </summary>
internal sealed class RawFlood : IAsyncDisposable
{
    private const int FramesPerBatch = 10_000;

    // TwoPart prefix (16 bytes), then the frame header; the stream id is at offset 2 of the header.
    private const int StreamIdOffset = 16 + 2;

    private readonly CancellationTokenSource _stop;
    private readonly Func<byte[]> _newBatch;
    private readonly bool _numbered;
    private readonly int _frameLength;
    private long _sent;
    private int _connections;
    private int _closedByServer;
    private Socket? _socket;

    private RawFlood(IPEndPoint server, Func<byte[]> newBatch, bool numbered, int frameLength, bool reconnect, TimeSpan limit)
    {
        _stop = new CancellationTokenSource(limit);
        _newBatch = newBatch;
        _numbered = numbered;
        _frameLength = frameLength;
        Completion = Task.Run(() => RunAsync(server, reconnect));
    }

    /// <summary>Bytes the socket has taken so far, over every connection.</summary>
    public long SentBytes => Interlocked.Read(ref _sent);

    /// <summary>Connections that completed the handshake.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections the server closed while the flood was sending.</summary>
    public int ClosedByServer => Volatile.Read(ref _closedByServer);

    /// <summary>Completes when the flood has stopped: the time limit, disposal, or (without reconnect) the server closed it.</summary>
    public Task Completion { get; }

    /// <summary>PING frames, as the reproduction of issue 8 sends them.</summary>
    public static RawFlood Pings(IPEndPoint server, bool reconnect, TimeSpan limit)
    {
        var ping = RawWire.SimpleFrame(FrameType.Ping, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
        return new RawFlood(server, () => Repeat(ping), numbered: false, ping.Length, reconnect, limit);
    }

    /// <summary>REQUEST frames (no payload) to an endpoint nobody serves, each on a new stream.</summary>
    public static RawFlood UnknownEndpointRequests(IPEndPoint server, bool reconnect, TimeSpan limit)
    {
        var request = new OutgoingRequest(
            new EndpointAddress("no", "such", "endpoint"),
            new InstanceId(42),
            "r",
            ReadOnlySequence<byte>.Empty,
            new Dictionary<string, string>(),
            Deadline: null);
        var frame = RawWire.RequestFrame(1, request);
        return new RawFlood(server, () => Repeat(frame), numbered: true, frame.Length, reconnect, limit);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Volatile.Read(ref _socket)?.Dispose();
        try
        {
            await Completion.WaitAsync(Echo.Bound);
        }
        finally
        {
            _stop.Dispose();
        }
    }

    private static byte[] Repeat(byte[] frame)
    {
        var batch = new byte[frame.Length * FramesPerBatch];
        for (var i = 0; i < FramesPerBatch; i++)
        {
            frame.CopyTo(batch, i * frame.Length);
        }

        return batch;
    }

    private async Task RunAsync(IPEndPoint server, bool reconnect)
    {
        // One batch for the whole flood: the flood itself must not churn this process's memory.
        var batch = _newBatch();
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            Volatile.Write(ref _socket, socket);
            try
            {
                await socket.ConnectAsync(server, token);
                await socket.SendAsync(RawWire.Hello(), token);
                await ReadHandshakeAsync(socket, token);
                Interlocked.Increment(ref _connections);
                uint nextStream = 1;
                while (true)
                {
                    if (_numbered)
                    {
                        for (var i = 0; i < FramesPerBatch; i++)
                        {
                            BinaryPrimitives.WriteUInt32LittleEndian(batch.AsSpan((i * _frameLength) + StreamIdOffset), nextStream++);
                        }
                    }

                    var sent = await socket.SendAsync(batch, token);
                    Interlocked.Add(ref _sent, sent);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException or IOException)
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }

                Interlocked.Increment(ref _closedByServer);
            }

            if (!reconnect)
            {
                return;
            }
        }
    }

    private static async Task ReadHandshakeAsync(Socket socket, CancellationToken cancellationToken)
    {
        var prefix = new byte[Wire.HandshakePrefixLength];
        await ReadExactlyAsync(socket, prefix, cancellationToken);
        if (prefix[5] != Wire.Accept)
        {
            throw new IOException($"The server answered the hello with kind {prefix[5]}, not ACCEPT.");
        }

        await ReadExactlyAsync(socket, new byte[BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(6))], cancellationToken);
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                throw new IOException("The server closed the connection during the handshake.");
            }

            read += n;
        }
    }
}
