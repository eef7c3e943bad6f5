using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Options;

namespace Plexus.Codec.TwoPart;

/// <summary>
/// The default codec: a 16-byte little-endian prefix (header length, body length, flags, CRC-32C), then the header
/// bytes, then the body bytes. The layout is specified in <c>docs/protocol/twopart.md</c>.
/// </summary>
internal sealed class TwoPartCodec : IFrameCodec
{
    /// <summary>The codec's name.</summary>
    public const string CodecName = "twopart";

    /// <summary>The length of the fixed prefix.</summary>
    public const int PrefixLength = 16;

    /// <summary>Flag bit 0: the CRC field holds a CRC-32C over header then body.</summary>
    public const uint ChecksumFlag = 1u;

    /// <summary>Every flag this version understands; any other bit set is a protocol error.</summary>
    public const uint KnownFlags = ChecksumFlag;

    /// <summary>The largest part the 32-bit length fields can describe.</summary>
    public const long MaxPartLength = uint.MaxValue;

    private readonly bool _checksum;

    public TwoPartCodec(IOptions<TwoPartCodecOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _checksum = options.Value.Checksum;
    }

    public string Name => CodecName;

    public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame)
    {
        frame = default;
        var reader = new SequenceReader<byte>(input);
        if (!reader.TryReadLittleEndian(out int rawHeaderLength)
            || !reader.TryReadLittleEndian(out int rawBodyLength)
            || !reader.TryReadLittleEndian(out int rawFlags)
            || !reader.TryReadLittleEndian(out int rawCrc))
        {
            return false;
        }

        // The fields are unsigned on the wire; SequenceReader only reads signed integers.
        var headerLength = (uint)rawHeaderLength;
        var bodyLength = (uint)rawBodyLength;
        var flags = (uint)rawFlags;
        var declaredCrc = (uint)rawCrc;

        // Everything the prefix declares is checked here, before the caller is asked to buffer the rest of the frame.
        if ((flags & ~KnownFlags) != 0)
        {
            throw PlexusException.Protocol(
                $"TwoPart frame has unknown flags 0x{flags & ~KnownFlags:x8} (flags field 0x{flags:x8}); this reader understands only 0x{KnownFlags:x8} (checksum). The peer speaks a newer or different protocol, or the stream is out of step.");
        }

        if ((flags & ChecksumFlag) == 0 && declaredCrc != 0)
        {
            throw PlexusException.Protocol(
                $"TwoPart frame has no checksum flag but a non-zero CRC field 0x{declaredCrc:x8}; the field must be 0 when the flag is clear. The stream is likely out of step.");
        }

        if (headerLength > (uint)Math.Max(limits.MaxHeaderLength, 0))
        {
            throw PlexusException.TooLarge("TwoPart frame header", headerLength, limits.MaxHeaderLength, "the receiver's FrameLimits.MaxHeaderLength (the transport's frame header limit)");
        }

        if (bodyLength > (uint)Math.Max(limits.MaxBodyLength, 0))
        {
            throw PlexusException.TooLarge("TwoPart frame body", bodyLength, limits.MaxBodyLength, "the receiver's FrameLimits.MaxBodyLength (the transport's frame body limit)");
        }

        if (reader.Remaining < (long)headerLength + bodyLength)
        {
            return false;
        }

        var header = input.Slice(reader.Position, headerLength);
        var body = input.Slice(header.End, bodyLength);

        if ((flags & ChecksumFlag) != 0)
        {
            var actualCrc = Crc32C.Append(Crc32C.Append(0, header), body);
            if (actualCrc != declaredCrc)
            {
                throw PlexusException.Protocol(
                    $"TwoPart frame checksum mismatch: the prefix declares CRC-32C 0x{declaredCrc:x8} but header ({headerLength} bytes) and body ({bodyLength} bytes) give 0x{actualCrc:x8}. The bytes were corrupted in transit.");
            }
        }

        frame = new Frame(header, body);
        input = input.Slice(body.End);
        return true;
    }

    public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var bodyLength = body.Length;
        if (bodyLength > MaxPartLength)
        {
            // Unreachable for a header (a span is at most int.MaxValue long); a body this big has to be chunked.
            throw new ArgumentOutOfRangeException(nameof(body), bodyLength, $"A TwoPart frame body is at most {MaxPartLength} bytes; split the payload into several frames.");
        }

        uint flags = 0;
        uint crc = 0;
        if (_checksum)
        {
            flags |= ChecksumFlag;
            crc = Crc32C.Append(Crc32C.Append(0, header), body);
        }

        var prefix = output.GetSpan(PrefixLength);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)header.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix[4..], (uint)bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix[12..], crc);
        output.Advance(PrefixLength);

        output.Write(header);
        foreach (var segment in body)
        {
            output.Write(segment.Span);
        }
    }
}
