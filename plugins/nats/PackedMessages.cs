using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Nats;

/// <summary>
/// The payload of a <c>msgs</c> frame: whole response messages back to back, each a u32 big-endian length and that
/// many bytes. Checked as a whole before any message in it is handed out, so a frame with a bad length delivers none
/// of its messages and every one before it stays good. See docs/protocol/nats.md, "Packed messages".
/// </summary>
internal static class PackedMessages
{
    /// <summary>The bytes each message takes on top of its own: its length.</summary>
    public const int PrefixBytes = sizeof(uint);

    /// <summary>The largest message, with its length, that a sender packs; larger ones go as <c>data</c> or <c>part</c>.</summary>
    public const int MaxPackedBytes = 4096;

    /// <summary>The most a sender gathers in one frame (within the frame's room: <c>max_payload</c> and a quarter window).</summary>
    public const int MaxFrameBytes = 32 * 1024;

    /// <summary>Writes one message's length and bytes at the start of <paramref name="target"/>.</summary>
    /// <param name="target">Room for the message and its length.</param>
    /// <param name="message">The message.</param>
    public static void Write(Span<byte> target, ReadOnlySpan<byte> message)
    {
        BinaryPrimitives.WriteUInt32BigEndian(target, (uint)message.Length);
        message.CopyTo(target[PrefixBytes..]);
    }

    /// <summary>Reads the length of the message that starts at <paramref name="offset"/> of a checked frame.</summary>
    /// <param name="frame">The frame's payload.</param>
    /// <param name="offset">Where the message's length is.</param>
    /// <returns>The message's length.</returns>
    public static int LengthAt(byte[] frame, int offset) => (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(offset));

    /// <summary>Checks that <paramref name="payload"/> is exactly <paramref name="count"/> messages.</summary>
    /// <param name="payload">The frame's payload.</param>
    /// <param name="count">The message count its <c>Plexus-Count</c> declares, or -1 when it has none.</param>
    /// <param name="largest">The longest message's length, for the receiver's limit.</param>
    /// <returns>What is wrong, for an error message, or <see langword="null"/> when the payload is well formed.</returns>
    public static string? Check(in ReadOnlySequence<byte> payload, long count, out long largest)
    {
        largest = 0;
        if (count < 1)
        {
            return count < 0 ? "it has no Plexus-Count" : "its Plexus-Count is 0";
        }

        // Each message takes at least its length: a count the payload cannot hold is not worth walking.
        if (count > payload.Length / PrefixBytes)
        {
            return $"its Plexus-Count of {count} messages cannot fit its {payload.Length} bytes";
        }

        if (payload.IsSingleSegment)
        {
            // The common case: the frame arrived in one read buffer.
            var span = payload.FirstSpan;
            var offset = 0;
            for (long i = 0; i < count; i++)
            {
                if (span.Length - offset < PrefixBytes)
                {
                    return NoLength(i, count, offset);
                }

                var length = BinaryPrimitives.ReadUInt32BigEndian(span[offset..]);
                offset += PrefixBytes;
                if (length > (uint)(span.Length - offset))
                {
                    return Overrun(i, count, length, span.Length - offset);
                }

                offset += (int)length;
                largest = Math.Max(largest, length);
            }

            return offset == span.Length ? null : Trailing(count, span.Length - offset);
        }

        var reader = new SequenceReader<byte>(payload);
        for (long i = 0; i < count; i++)
        {
            if (!reader.TryReadBigEndian(out int raw))
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
        $"message {index + 1} of the {count} it declares has no room for its length: the payload ends after {offset} bytes";

    private static string Overrun(long index, long count, uint length, long left) =>
        $"message {index + 1} of the {count} it declares has {length} bytes, but only {left} bytes of the payload follow";

    private static string Trailing(long count, long left) =>
        $"{left} bytes follow the {count} messages it declares";
}
