using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace Plexus.Transport.Tcp;

/// <summary>Reads and writes handshake messages (docs/protocol/tcp.md, "Handshake").</summary>
internal static class Handshake
{
    private const int SettingsLength = 24;

    // The protocol's minimums (docs/protocol/tcp.md), and the most this side uses of each announced limit: the upper
    // bounds of TcpTransportOptions, so that a peer's limits are never taken past what our own side could be set to.
    private const int MinFrameHeaderBytes = 1024;
    private const int MinFrameBodyBytes = 1024;
    private const int MinWindowBytes = 64 * 1024;
    private const int MaxFrameHeaderBytes = 1024 * 1024;
    private const int MaxFrameBodyBytes = 16 * 1024 * 1024;
    private const int MaxWindowBytes = 1024 * 1024 * 1024;

    /// <summary>
    /// Writes a HELLO offering the versions from <see cref="Wire.MinVersion"/> to <paramref name="highestVersion"/>: the
    /// version byte is the lowest, which every server reads, and a higher one is offered in a byte after the settings,
    /// which a version-1 server ignores (docs/protocol/tcp.md, "Versions"). Offering the highest in the version byte
    /// instead would make a version-1 server refuse and close, so the client would need a second connection to it,
    /// and the server would log a refusal for every such client.
    /// </summary>
    public static void WriteHello(IBufferWriter<byte> output, in PeerSettings settings, byte highestVersion) =>
        WriteSettings(output, Wire.Hello, settings, Wire.MinVersion, highestVersion > Wire.MinVersion ? highestVersion : null);

    /// <summary>Writes a HELLO or ACCEPT carrying <paramref name="settings"/>, and in a HELLO the highest version offered, if given.</summary>
    public static void WriteSettings(IBufferWriter<byte> output, byte kind, in PeerSettings settings, byte version = Wire.Version, byte? highestVersion = null)
    {
        var codec = Encoding.ASCII.GetBytes(settings.CodecName);
        var bodyLength = 1 + codec.Length + SettingsLength + (highestVersion is null ? 0 : 1);
        var span = output.GetSpan(Wire.HandshakePrefixLength + bodyLength);
        WritePrefix(span, version, kind, bodyLength);
        var body = span[Wire.HandshakePrefixLength..];
        body[0] = (byte)codec.Length;
        codec.CopyTo(body[1..]);
        var fields = body[(1 + codec.Length)..];
        BinaryPrimitives.WriteInt32LittleEndian(fields, settings.MaxFrameHeaderBytes);
        BinaryPrimitives.WriteInt32LittleEndian(fields[4..], settings.MaxFrameBodyBytes);
        BinaryPrimitives.WriteInt32LittleEndian(fields[8..], settings.StreamWindowBytes);
        BinaryPrimitives.WriteInt32LittleEndian(fields[12..], settings.ConnectionWindowBytes);
        BinaryPrimitives.WriteInt32LittleEndian(fields[16..], settings.MaxConcurrentStreams);
        BinaryPrimitives.WriteInt32LittleEndian(fields[20..], settings.KeepAliveMilliseconds);
        if (highestVersion is { } highest)
        {
            fields[SettingsLength] = highest;
        }

        output.Advance(Wire.HandshakePrefixLength + bodyLength);
    }

    /// <summary>
    /// The highest version a HELLO offers: the byte after its settings, or its version byte when it has none (a
    /// version-1 client). Call after <see cref="ParseSettings"/> has accepted the body.
    /// </summary>
    public static byte OfferedVersion(in HandshakeMessage hello)
    {
        var offset = 1 + hello.Body[0] + SettingsLength;
        return hello.Body.Length > offset ? hello.Body[offset] : hello.Version;
    }

    /// <summary>Writes a REJECT with a reason and a message for a person; its version byte is the server's highest.</summary>
    public static void WriteReject(IBufferWriter<byte> output, byte reason, string message, byte version = Wire.Version)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var bodyLength = Math.Min(1 + text.Length, Wire.MaxHandshakeBody);
        var span = output.GetSpan(Wire.HandshakePrefixLength + bodyLength);
        WritePrefix(span, version, Wire.Reject, bodyLength);
        span[Wire.HandshakePrefixLength] = reason;
        text.AsSpan(0, bodyLength - 1).CopyTo(span[(Wire.HandshakePrefixLength + 1)..]);
        output.Advance(Wire.HandshakePrefixLength + bodyLength);
    }

    /// <summary>Reads one handshake message. The body length is checked before the body is waited for.</summary>
    /// <exception cref="PlexusException">The bytes are not a handshake message (ProtocolError).</exception>
    /// <exception cref="EndOfStreamException">The peer closed first.</exception>
    public static async ValueTask<HandshakeMessage> ReadAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryParse(ref buffer, out var message))
            {
                input.AdvanceTo(buffer.Start);
                return message;
            }

            if (result.IsCompleted)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                throw new EndOfStreamException($"The peer closed the connection after {buffer.Length} bytes of its handshake.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Reads the settings of a HELLO or ACCEPT body.</summary>
    /// <exception cref="PlexusException">The body is malformed (ProtocolError).</exception>
    public static PeerSettings ParseSettings(byte[] body)
    {
        if (body.Length < 1 || body[0] is 0 or > 64 || body.Length < 1 + body[0] + SettingsLength)
        {
            throw PlexusException.Protocol($"A handshake body of {body.Length} bytes is too short or names no codec.");
        }

        var codecLength = body[0];
        foreach (var b in body.AsSpan(1, codecLength))
        {
            if (b is < 0x21 or > 0x7E)
            {
                throw PlexusException.Protocol("A handshake names a codec that is not printable ASCII.");
            }
        }

        var codec = Encoding.ASCII.GetString(body, 1, codecLength);
        var fields = body.AsSpan(1 + codecLength);

        // The fields are u32. Each is checked against the protocol's minimum as read, then capped at the most this
        // side can use (the upper bounds of its own options): a peer may announce up to 4 GiB, and a limit above what
        // we would ever send is the same to us as that most.
        var header = BinaryPrimitives.ReadUInt32LittleEndian(fields);
        var frameBody = BinaryPrimitives.ReadUInt32LittleEndian(fields[4..]);
        var streamWindow = BinaryPrimitives.ReadUInt32LittleEndian(fields[8..]);
        var connectionWindow = BinaryPrimitives.ReadUInt32LittleEndian(fields[12..]);
        var streams = BinaryPrimitives.ReadUInt32LittleEndian(fields[16..]);
        var keepAlive = BinaryPrimitives.ReadUInt32LittleEndian(fields[20..]);
        if (header < MinFrameHeaderBytes || frameBody < MinFrameBodyBytes || streamWindow < MinWindowBytes || connectionWindow < MinWindowBytes)
        {
            throw PlexusException.Protocol(
                $"A handshake announces limits below the protocol's minimums (frame header {header}, frame body {frameBody}, stream window {streamWindow}, connection window {connectionWindow}; the least allowed are {MinFrameHeaderBytes}, {MinFrameBodyBytes}, {MinWindowBytes} and {MinWindowBytes}).");
        }

        return new PeerSettings(
            codec,
            Cap(header, MaxFrameHeaderBytes),
            Cap(frameBody, MaxFrameBodyBytes),
            Cap(streamWindow, MaxWindowBytes),
            Cap(connectionWindow, MaxWindowBytes),
            Cap(streams, int.MaxValue),
            Cap(keepAlive, int.MaxValue));
    }

    private static int Cap(uint value, int most) => value > (uint)most ? most : (int)value;

    /// <summary>Reads a REJECT body: the reason and the message.</summary>
    public static (byte Reason, string Message) ParseReject(byte[] body) =>
        body.Length == 0 ? ((byte)0, "(no message)") : (body[0], Encoding.UTF8.GetString(body, 1, body.Length - 1));

    private static void WritePrefix(Span<byte> span, byte version, byte kind, int bodyLength)
    {
        Wire.Magic.CopyTo(span);
        span[4] = version;
        span[5] = kind;
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)bodyLength);
    }

    private static bool TryParse(ref ReadOnlySequence<byte> buffer, out HandshakeMessage message)
    {
        message = default;
        Span<byte> prefix = stackalloc byte[Wire.HandshakePrefixLength];
        var available = (int)Math.Min(buffer.Length, Wire.HandshakePrefixLength);
        buffer.Slice(0, available).CopyTo(prefix);

        // Judge the magic on however many bytes have arrived, so that a stranger is turned away at once.
        if (!prefix[..Math.Min(available, 4)].SequenceEqual(Wire.Magic[..Math.Min(available, 4)]))
        {
            throw PlexusException.Protocol($"The peer is not speaking the Plexus TCP protocol: its first bytes are {Convert.ToHexString(prefix[..available])}, not the magic 504C5854 ('PLXT').");
        }

        if (available < Wire.HandshakePrefixLength)
        {
            return false;
        }

        var bodyLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[6..]);
        if (bodyLength > Wire.MaxHandshakeBody)
        {
            throw PlexusException.Protocol($"A handshake message declares a {bodyLength}-byte body; the most allowed is {Wire.MaxHandshakeBody}.");
        }

        if (buffer.Length < Wire.HandshakePrefixLength + bodyLength)
        {
            return false;
        }

        var body = buffer.Slice(Wire.HandshakePrefixLength, bodyLength).ToArray();
        message = new HandshakeMessage(prefix[4], prefix[5], body);
        buffer = buffer.Slice(Wire.HandshakePrefixLength + bodyLength);
        return true;
    }
}
