using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A server over a raw socket, to play an older or broken peer against the real client: it answers the HELLO as the
/// test says, then reads the client's frames and sends whatever frames the test writes.
/// </summary>
internal sealed class FakeServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly IFrameCodec _codec = TestCodecs.NewTwoPart();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private Socket? _peer;
    private byte[] _pending = [];

    public FakeServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        Address = new Uri($"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}");
    }

    public Uri Address { get; }

    /// <summary>An ACCEPT naming <paramref name="version"/> with default settings.</summary>
    public static byte[] Accept(byte version) => RawWire.Hello(version, kind: Wire.Accept);

    /// <summary>Accepts one connection, reads its HELLO and sends what <paramref name="answer"/> makes of it.</summary>
    public async Task<HandshakeMessage> AcceptAsync(Func<HandshakeMessage, byte[]> answer)
    {
        _peer = await _listener.AcceptAsync().WaitAsync(Echo.Bound);
        var prefix = await ReadExactlyAsync(Wire.HandshakePrefixLength);
        var body = await ReadExactlyAsync(BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(6)));
        var hello = new HandshakeMessage(prefix[4], prefix[5], body);
        await SendAsync(answer(hello));
        return hello;
    }

    public async Task SendAsync(byte[] bytes) => await _peer!.SendAsync(bytes).WaitAsync(Echo.Bound);

    /// <summary>Reads the client's frames, skipping others, until one of <paramref name="type"/>; returns its header, its raw header and body.</summary>
    public async Task<(FrameHeader Header, byte[] Body)> ReadUntilAsync(FrameType type)
    {
        using var timeout = new CancellationTokenSource(Echo.Bound);
        while (true)
        {
            var input = new ReadOnlySequence<byte>(_pending);
            if (_codec.TryRead(ref input, FrameLimits.Default, out var frame))
            {
                var header = FrameHeader.Read(frame.Header);
                var body = frame.Body.ToArray();
                _pending = input.ToArray();
                if (header.Type == type)
                {
                    return (header, body);
                }

                continue;
            }

            var n = await _peer!.ReceiveAsync(_buffer, timeout.Token);
            Assert.True(n > 0, $"The client closed the connection before a {type} frame arrived.");
            _pending = [.. _pending, .. _buffer.AsSpan(0, n)];
        }
    }

    public async Task<bool> WaitForCloseAsync(TimeSpan within) => (await RawWire.ReadUntilClosedAsync(_peer!, within)).Closed;

    public ValueTask DisposeAsync()
    {
        _peer?.Dispose();
        _listener.Dispose();
        return default;
    }

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        var bytes = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await _peer!.ReceiveAsync(bytes.AsMemory(read)).AsTask().WaitAsync(Echo.Bound);
            Assert.True(n > 0, "The client closed the connection during the handshake.");
            read += n;
        }

        return bytes;
    }
}
