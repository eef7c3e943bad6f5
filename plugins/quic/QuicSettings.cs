using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace Plexus.Transport.Quic;

/// <summary>
/// A SETTINGS message (docs/protocol/quic.md, "Connection"): the first bytes each side writes on its control stream,
/// naming the codec and the frame limits the sender accepts. Not codec-framed: it chooses the codec.
/// </summary>
internal readonly record struct QuicSettings(string CodecName, int MaxFrameHeaderBytes, int MaxFrameBodyBytes)
{
    // Magic, version, codec name length.
    private const int PrefixLength = 6;

    // The most this side uses of a peer's announced limits: the upper bounds of its own settings.
    private const int MaxUsableHeaderBytes = 1024 * 1024;
    private const int MaxUsableBodyBytes = 16 * 1024 * 1024;

    /// <summary>The frame limits this side gives its codec when reading what the announcer of these settings accepts.</summary>
    public FrameLimits FrameLimits => new(MaxFrameHeaderBytes, MaxFrameBodyBytes);

    /// <summary>Writes the message, naming <paramref name="version"/>: the version the connection's ALPN chose.</summary>
    public void Write(IBufferWriter<byte> output, byte version)
    {
        var length = PrefixLength + CodecName.Length + 8;
        var span = output.GetSpan(length);
        QuicWire.Magic.CopyTo(span);
        span[4] = version;
        span[5] = (byte)CodecName.Length;
        Encoding.ASCII.GetBytes(CodecName, span[PrefixLength..]);
        var limits = span[(PrefixLength + CodecName.Length)..];
        BinaryPrimitives.WriteUInt32LittleEndian(limits, (uint)MaxFrameHeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(limits[4..], (uint)MaxFrameBodyBytes);
        output.Advance(length);
    }

    /// <summary>Reads the peer's SETTINGS from the front of its control stream; later bytes stay in the reader.</summary>
    /// <param name="input">The peer's control stream.</param>
    /// <param name="version">The version the connection's ALPN chose, which the SETTINGS must name.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <exception cref="PlexusException">The message is malformed or of another version (ProtocolError), or the stream ended first.</exception>
    public static async ValueTask<QuicSettings> ReadAsync(PipeReader input, byte version, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryParse(ref buffer, version, out var settings))
            {
                input.AdvanceTo(buffer.Start);
                return settings;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw PlexusException.Protocol($"The control stream ended after {buffer.Length} bytes, before a complete SETTINGS message.");
            }
        }
    }

    private static bool TryParse(ref ReadOnlySequence<byte> buffer, byte expected, out QuicSettings settings)
    {
        settings = default;
        var reader = new SequenceReader<byte>(buffer);
        Span<byte> magic = stackalloc byte[4];
        if (!reader.TryCopyTo(magic))
        {
            return false;
        }

        if (!magic.SequenceEqual(QuicWire.Magic))
        {
            throw PlexusException.Protocol($"SETTINGS starts with {Convert.ToHexString(magic)}, not the magic 504C5851 (PLXQ); the peer is not a Plexus QUIC peer.");
        }

        reader.Advance(4);
        if (!reader.TryRead(out var version) || !reader.TryRead(out var nameLength))
        {
            return false;
        }

        if (version != expected)
        {
            throw PlexusException.Protocol($"The peer's SETTINGS name Plexus QUIC protocol version {version}, but the connection's ALPN chose version {expected}.");
        }

        if (nameLength is 0 or > QuicWire.MaxCodecNameLength)
        {
            throw PlexusException.Protocol($"SETTINGS names a codec of {nameLength} bytes; the length must be 1 to {QuicWire.MaxCodecNameLength}.");
        }

        if (reader.Remaining < nameLength + 8)
        {
            return false;
        }

        var name = reader.UnreadSequence.Slice(0, nameLength);
        foreach (var segment in name)
        {
            foreach (var c in segment.Span)
            {
                if (c is < 0x20 or > 0x7E)
                {
                    throw PlexusException.Protocol("SETTINGS names a codec that is not printable ASCII.");
                }
            }
        }

        var codec = Encoding.ASCII.GetString(name);
        reader.Advance(nameLength);
        reader.TryReadLittleEndian(out int rawHeader);
        reader.TryReadLittleEndian(out int rawBody);
        var header = (uint)rawHeader;
        var body = (uint)rawBody;
        if (header < QuicWire.MinFrameLimit || body < QuicWire.MinFrameLimit)
        {
            throw PlexusException.Protocol($"SETTINGS announces frame limits of {header} header and {body} body bytes; each must be at least {QuicWire.MinFrameLimit}.");
        }

        settings = new QuicSettings(codec, (int)Math.Min(header, MaxUsableHeaderBytes), (int)Math.Min(body, MaxUsableBodyBytes));
        buffer = buffer.Slice(reader.Position);
        return true;
    }
}
