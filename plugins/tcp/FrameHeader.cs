using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The fixed fields of a received frame header. <see cref="Value"/> is the type's number (credit increment, ping
/// value, message count) and <see cref="Code"/> its byte (error code, cancel reason); a REQUEST's variable part is read separately.
/// </summary>
internal readonly record struct FrameHeader(FrameType Type, byte Flags, uint StreamId, byte Code, ulong Value)
{
    /// <summary>Reads the fixed fields.</summary>
    /// <exception cref="PlexusException">The header is too short for its type, or the type is unknown (ProtocolError).</exception>
    public static FrameHeader Read(in ReadOnlySequence<byte> header)
    {
        var reader = new SequenceReader<byte>(header);
        if (!reader.TryRead(out var type) || !reader.TryRead(out var flags) || !reader.TryReadLittleEndian(out int streamId))
        {
            throw PlexusException.Protocol($"A frame header is {header.Length} bytes; every header has at least {Wire.CommonHeaderLength}.");
        }

        byte code = 0;
        ulong value = 0;
        switch ((FrameType)type)
        {
            case FrameType.Request or FrameType.Data or FrameType.End:
                break;
            case FrameType.Error or FrameType.Cancel or FrameType.GoAway:
                if (!reader.TryRead(out code))
                {
                    throw Short((FrameType)type, header.Length);
                }

                break;
            case FrameType.Messages:
                if (!reader.TryReadLittleEndian(out int count))
                {
                    throw Short((FrameType)type, header.Length);
                }

                value = (uint)count;
                break;
            case FrameType.Credit:
                if (!reader.TryReadLittleEndian(out int increment))
                {
                    throw Short((FrameType)type, header.Length);
                }

                value = (uint)increment;
                break;
            case FrameType.Ping or FrameType.Pong:
                if (!reader.TryReadLittleEndian(out long opaque))
                {
                    throw Short((FrameType)type, header.Length);
                }

                value = (ulong)opaque;
                break;
            default:
                throw PlexusException.Protocol($"Unknown frame type {type}; this side speaks protocol version {Wire.Version}.");
        }

        return new FrameHeader((FrameType)type, flags, (uint)streamId, code, value);
    }

    private static PlexusException Short(FrameType type, long length) =>
        PlexusException.Protocol($"A {type} frame header is {length} bytes, too short for its fields.");
}
