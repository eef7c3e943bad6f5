using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A client over a raw socket that has done the handshake and reads the server's frames one by one: a version-1
/// client unless told to offer more, as the first release sent its HELLO.
/// </summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IFrameCodec _codec = TestCodecs.NewTwoPart();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private byte[] _pending = [];

    private RawPeer(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>The version the server's ACCEPT names.</summary>
    public byte Version { get; private set; }

    /// <param name="server">The server.</param>
    /// <param name="hello">The HELLO to send; a version-1 client's by default.</param>
    /// <param name="receiveBufferBytes">A fixed socket receive buffer, so that a peer that does not read stops the server soon.</param>
    public static async Task<RawPeer> ConnectAsync(IPEndPoint server, byte[]? hello = null, int? receiveBufferBytes = null)
    {
        var peer = new RawPeer(await RawWire.ConnectAsync(server, receiveBufferBytes));
        await peer.SendAsync(hello ?? RawWire.Hello());
        var prefix = await peer.ReadExactlyAsync(Wire.HandshakePrefixLength);
        Assert.Equal(Wire.Accept, prefix[5]);
        peer.Version = prefix[4];
        await peer.ReadExactlyAsync(BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(6)));
        return peer;
    }

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes).WaitAsync(Echo.Bound);

    /// <summary>Reads the next frame other than a keep-alive PING.</summary>
    public async Task<(FrameHeader Header, byte[] Body)> ReadAsync()
    {
        while (true)
        {
            var (header, body) = await ReadAnyAsync();
            if (header.Type != FrameType.Ping)
            {
                return (header, body);
            }
        }
    }

    private async Task<(FrameHeader Header, byte[] Body)> ReadAnyAsync()
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
                return (header, body);
            }

            var n = await _socket.ReceiveAsync(_buffer, timeout.Token);
            Assert.True(n > 0, "The server closed the connection before the frame the test waits for arrived.");
            _pending = [.. _pending, .. _buffer.AsSpan(0, n)];
        }
    }

    /// <summary>Reads frames, skipping others, until one of <paramref name="type"/> for <paramref name="streamId"/>.</summary>
    public async Task<(FrameHeader Header, byte[] Body)> ReadUntilAsync(FrameType type, uint streamId)
    {
        while (true)
        {
            var (header, body) = await ReadAsync();
            if (header.Type == type && header.StreamId == streamId)
            {
                return (header, body);
            }
        }
    }

    /// <summary>Whether a frame arrives within <paramref name="within"/> (it is kept for the next read).</summary>
    public async Task<bool> HasFrameWithinAsync(TimeSpan within)
    {
        var input = new ReadOnlySequence<byte>(_pending);
        if (_codec.TryRead(ref input, FrameLimits.Default, out _))
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(_buffer, timeout.Token);
                Assert.True(n > 0, "The server closed the connection.");
                _pending = [.. _pending, .. _buffer.AsSpan(0, n)];
                input = new ReadOnlySequence<byte>(_pending);
                if (_codec.TryRead(ref input, FrameLimits.Default, out _))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task<bool> WaitForCloseAsync(TimeSpan within) => (await RawWire.ReadUntilClosedAsync(_socket, within)).Closed;

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return default;
    }

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        var bytes = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await _socket.ReceiveAsync(bytes.AsMemory(read)).AsTask().WaitAsync(Echo.Bound);
            Assert.True(n > 0, "The server closed the connection during the handshake.");
            read += n;
        }

        return bytes;
    }
}
