using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Nats;

/// <summary>
/// The payload of a <c>lasts</c> frame: the one-frame answers (<c>last</c> or <c>error</c>, sequence 0) of several
/// requests of one client, back to back. Each is a 16-byte entry head (the request's number, the last token of its
/// reply subject, as u64; its kind as u8, 1 <c>last</c> or 2 <c>error</c>; u8 flags, 1 = refused; the error code as
/// u16; the payload length as u32; all big-endian) and its payload. See docs/protocol/nats.md, "Answers batched per
/// client".
/// </summary>
internal static class BatchedAnswers
{
    /// <summary>The bytes of an entry's head.</summary>
    public const int EntryBytes = 16;

    /// <summary>The largest answer payload a server gathers; larger ones go as frames of their own.</summary>
    public const int MaxAnswerBytes = 4096;

    /// <summary>The most a server gathers in one frame.</summary>
    public const int MaxFrameBytes = 32 * 1024;

    /// <summary>Kind byte of a <c>last</c> answer.</summary>
    public const byte LastKind = 1;

    /// <summary>Kind byte of an <c>error</c> answer.</summary>
    public const byte ErrorKind = 2;

    /// <summary>Writes one entry at the start of <paramref name="target"/>.</summary>
    /// <param name="target">Room for <see cref="EntryBytes"/> and the payload.</param>
    /// <param name="number">The request's number.</param>
    /// <param name="kind">The kind byte.</param>
    /// <param name="refused">Whether an error marks the request refused before any work.</param>
    /// <param name="code">The error code, or 0.</param>
    /// <param name="payload">The payload.</param>
    public static void Write(Span<byte> target, ulong number, byte kind, bool refused, int code, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt64BigEndian(target, number);
        target[8] = kind;
        target[9] = refused ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(target[10..], (ushort)Math.Clamp(code, 0, ushort.MaxValue));
        BinaryPrimitives.WriteUInt32BigEndian(target[12..], (uint)payload.Length);
        payload.CopyTo(target[EntryBytes..]);
    }

    /// <summary>Reads the entry head at <paramref name="offset"/> of a payload checked by <see cref="Check"/>.</summary>
    /// <param name="payload">The frame's payload.</param>
    /// <param name="offset">Where the entry starts.</param>
    /// <returns>The entry's fields.</returns>
    public static (ulong Number, byte Kind, bool Refused, int Code, int Length) Read(in ReadOnlySequence<byte> payload, long offset)
    {
        Span<byte> entry = stackalloc byte[EntryBytes];
        payload.Slice(offset, EntryBytes).CopyTo(entry);
        return (BinaryPrimitives.ReadUInt64BigEndian(entry), entry[8], (entry[9] & 1) != 0, BinaryPrimitives.ReadUInt16BigEndian(entry[10..]), (int)BinaryPrimitives.ReadUInt32BigEndian(entry[12..]));
    }

    /// <summary>Checks that <paramref name="payload"/> is exactly <paramref name="count"/> well-formed entries.</summary>
    /// <param name="payload">The frame's payload.</param>
    /// <param name="count">The count its <c>Plexus-Count</c> declares, or -1.</param>
    /// <returns>What is wrong, or <see langword="null"/>.</returns>
    public static string? Check(in ReadOnlySequence<byte> payload, long count)
    {
        if (count < 1)
        {
            return count < 0 ? "it has no Plexus-Count" : "its Plexus-Count is 0";
        }

        if (count > payload.Length / EntryBytes)
        {
            return $"its Plexus-Count of {count} answers cannot fit its {payload.Length} bytes";
        }

        long offset = 0;
        for (long i = 0; i < count; i++)
        {
            if (payload.Length - offset < EntryBytes)
            {
                return $"answer {i + 1} of the {count} it declares is cut short: the payload ends after {payload.Length} bytes";
            }

            var (_, kind, _, _, length) = Read(payload, offset);
            offset += EntryBytes;
            if (kind is not (LastKind or ErrorKind))
            {
                return $"answer {i + 1} of the {count} it declares has the unknown kind {kind}";
            }

            if ((uint)length > payload.Length - offset)
            {
                return $"answer {i + 1} of the {count} it declares has {(uint)length} bytes, but only {payload.Length - offset} bytes of the payload follow";
            }

            offset += length;
        }

        return offset == payload.Length ? null : $"{payload.Length - offset} bytes follow the {count} answers it declares";
    }
}
