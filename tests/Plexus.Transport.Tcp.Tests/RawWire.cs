using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>Builds protocol bytes by hand and talks over raw sockets, to play a broken or hostile peer.</summary>
internal static class RawWire
{
    public static PeerSettings DefaultSettings(string codec = "twopart") =>
        PeerSettings.From(new TcpTransportOptions(), codec, server: false);

    /// <summary>A HELLO as a version-1 client sends it (a raw peer reads DATA frames only), or of the version given.</summary>
    public static byte[] Hello(byte version = Wire.MinVersion, string codec = "twopart", byte kind = Wire.Hello, byte? highestVersion = null)
    {
        var output = new ArrayBufferWriter<byte>();
        Handshake.WriteSettings(output, kind, DefaultSettings(codec), version, highestVersion);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Frame(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        var output = new ArrayBufferWriter<byte>();
        TestCodecs.NewTwoPart().Write(header, new ReadOnlySequence<byte>(body.ToArray()), output);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] RequestFrame(uint streamId, OutgoingRequest request, bool endStream = true, long? declaredLength = null)
    {
        var header = new byte[RequestHeaderCodec.Measure(request)];
        RequestHeaderCodec.Encode(header, streamId, endStream ? Wire.EndStream : (byte)0, request, declaredLength ?? request.Payload.Length);
        return Frame(header, request.Payload.ToArray());
    }

    public static byte[] SimpleFrame(FrameType type, byte flags, uint streamId, params byte[] fields)
    {
        var header = new byte[Wire.CommonHeaderLength + fields.Length];
        header[0] = (byte)type;
        header[1] = flags;
        BitConverter.TryWriteBytes(header.AsSpan(2), streamId);
        fields.CopyTo(header, Wire.CommonHeaderLength);
        return Frame(header, []);
    }

    /// <summary>A MESSAGES frame carrying <paramref name="messages"/>, each behind its u32 length.</summary>
    public static byte[] MessagesFrame(uint streamId, params byte[][] messages) => FlaggedMessagesFrame(streamId, 0, messages);

    /// <summary>A MESSAGES frame with <paramref name="flags"/>, carrying <paramref name="messages"/>, each behind its u32 length.</summary>
    public static byte[] FlaggedMessagesFrame(uint streamId, byte flags, params byte[][] messages)
    {
        var body = new List<byte>();
        foreach (var message in messages)
        {
            body.AddRange(BitConverter.GetBytes((uint)message.Length));
            body.AddRange(message);
        }

        return MessagesFrame(streamId, (uint)messages.Length, [.. body], flags);
    }

    /// <summary>A MESSAGES frame with the count, body and flags as given, well formed or not.</summary>
    public static byte[] MessagesFrame(uint streamId, uint count, byte[] body, byte flags = 0)
    {
        var header = new byte[Wire.MessagesHeaderLength];
        header[0] = (byte)FrameType.Messages;
        header[1] = flags;
        BitConverter.TryWriteBytes(header.AsSpan(2), streamId);
        BitConverter.TryWriteBytes(header.AsSpan(Wire.CommonHeaderLength), count);
        return Frame(header, body);
    }

    /// <summary>A DATA frame.</summary>
    public static byte[] DataFrame(uint streamId, byte flags, byte[] body)
    {
        var header = new byte[Wire.CommonHeaderLength];
        header[0] = (byte)FrameType.Data;
        header[1] = flags;
        BitConverter.TryWriteBytes(header.AsSpan(2), streamId);
        return Frame(header, body);
    }

    /// <summary>The messages of a MESSAGES frame's body.</summary>
    public static List<byte[]> Unpack(byte[] body, ulong count)
    {
        Assert.Null(PackedMessages.Check(new ReadOnlySequence<byte>(body), (long)count, out _));
        var messages = new List<byte[]>();
        var offset = 0;
        while (offset < body.Length)
        {
            var length = (int)BitConverter.ToUInt32(body, offset);
            messages.Add(body.AsSpan(offset + Wire.MessagePrefixBytes, length).ToArray());
            offset += Wire.MessagePrefixBytes + length;
        }

        return messages;
    }

    public static async Task<Socket> ConnectAsync(IPEndPoint server, int? receiveBufferBytes = null)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferBytes is { } size)
        {
            // Before connecting, so that the window TCP offers the server stays this small.
            socket.ReceiveBufferSize = size;
        }

        await socket.ConnectAsync(server).WaitAsync(Echo.Bound);
        return socket;
    }

    /// <summary>Reads until the peer closes or <paramref name="within"/> passes; returns what arrived and whether it closed.</summary>
    public static async Task<(byte[] Received, bool Closed)> ReadUntilClosedAsync(Socket socket, TimeSpan within)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    return (received.ToArray(), true);
                }

                received.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (OperationCanceledException)
        {
            return (received.ToArray(), false);
        }
        catch (SocketException)
        {
            return (received.ToArray(), true);
        }
    }

    /// <summary>Reads one handshake message from raw bytes.</summary>
    public static HandshakeMessage ParseHandshake(byte[] bytes)
    {
        Assert.True(bytes.Length >= Wire.HandshakePrefixLength, $"Only {bytes.Length} bytes of a handshake arrived.");
        var length = BitConverter.ToUInt16(bytes, 6);
        return new HandshakeMessage(bytes[4], bytes[5], bytes.AsSpan(Wire.HandshakePrefixLength, length).ToArray());
    }
}
