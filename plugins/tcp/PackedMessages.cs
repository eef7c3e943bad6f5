using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The body of a MESSAGES frame (TCP and QUIC, version 2): whole response messages back to back, each a u32
/// little-endian length and that many bytes. Checked as a whole before any message in it is handed out, so a frame
/// with a bad length delivers none of its messages and every one before it stays good.
/// </summary>
internal static class PackedMessages
{
    /// <summary>Checks that <paramref name="body"/> is exactly <paramref name="count"/> messages.</summary>
    /// <param name="body">The frame's body.</param>
    /// <param name="count">The message count its header declares.</param>
    /// <param name="largest">The longest message's length, for the caller's limit.</param>
    /// <returns>What is wrong, for an error message, or <see langword="null"/> when the body is well formed.</returns>
    public static string? Check(in ReadOnlySequence<byte> body, long count, out long largest)
    {
        largest = 0;
        if (body.IsSingleSegment)
        {
            // The common case (the pipes' segments hold whole frames): a plain walk over the span.
            var span = body.FirstSpan;
            var offset = 0;
            for (long i = 0; i < count; i++)
            {
                if (span.Length - offset < Wire.MessagePrefixBytes)
                {
                    return NoLength(i, count, offset);
                }

                var length = BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
                offset += Wire.MessagePrefixBytes;
                if (length > (uint)(span.Length - offset))
                {
                    return Overrun(i, count, length, span.Length - offset);
                }

                offset += (int)length;
                largest = Math.Max(largest, length);
            }

            return offset == span.Length ? null : Trailing(count, span.Length - offset);
        }

        var reader = new SequenceReader<byte>(body);
        for (long i = 0; i < count; i++)
        {
            if (!reader.TryReadLittleEndian(out int raw))
            {
                return NoLength(i, count, reader.Consumed);
            }

            var length = (uint)raw;
            if (length > reader.Remaining)
            {
                return Overrun(i, count, length, reader.Remaining);
            }

            reader.Advance(length);
            largest = Math.Max(largest, length);
        }

        return reader.End ? null : Trailing(count, reader.Remaining);
    }

    private static string NoLength(long index, long count, long offset) =>
        $"message {index + 1} of the {count} a MESSAGES frame declares has no room for its length: the body ends after {offset} bytes";

    private static string Overrun(long index, long count, uint length, long left) =>
        $"message {index + 1} of the {count} in a MESSAGES frame declares {length} bytes, but only {left} bytes of the frame follow";

    private static string Trailing(long count, long left) =>
        $"{left} bytes follow the {count} messages a MESSAGES frame declares";
}
