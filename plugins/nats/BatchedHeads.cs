using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The payload of a <c>heads</c> frame: the heads of several requests of one client to one request subject, back to
/// back. Each is a 16-byte entry head (the request's number, the last token of its reply subject, as u64; the length
/// of its header block as u32; the length of its payload as u32; all big-endian), its header block exactly as NATS
/// writes one (<c>NATS/1.0\r\n</c>, <c>Name: value\r\n</c> lines, <c>\r\n</c>) and its whole payload. See
/// docs/protocol/nats.md, "Heads batched per subject".
/// </summary>
internal static class BatchedHeads
{
    /// <summary>The bytes of an entry's head.</summary>
    public const int EntryBytes = 16;

    /// <summary>The largest entry (head, header block and payload) a client gathers; larger requests go alone.</summary>
    public const int MaxEntryBytes = 4096;

    /// <summary>The most a client gathers in one frame.</summary>
    public const int MaxFrameBytes = 32 * 1024;

    private static ReadOnlySpan<byte> StatusLine => "NATS/1.0\r\n"u8;

    /// <summary>The bytes <paramref name="headers"/> take as a header block.</summary>
    /// <param name="headers">The headers.</param>
    /// <returns>The length of the block.</returns>
    public static int BlockLength(NatsHeaders headers)
    {
        var length = StatusLine.Length + 2;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                length += Encoding.UTF8.GetByteCount(name) + 2 + Encoding.UTF8.GetByteCount(value ?? string.Empty) + 2;
            }
        }

        return length;
    }

    /// <summary>Writes one entry at the start of <paramref name="target"/>.</summary>
    /// <param name="target">Room for the entry.</param>
    /// <param name="number">The request's number.</param>
    /// <param name="headers">Its headers.</param>
    /// <param name="blockLength">Their <see cref="BlockLength"/>.</param>
    /// <param name="payload">Its whole payload.</param>
    public static void Write(Span<byte> target, ulong number, NatsHeaders headers, int blockLength, in ReadOnlySequence<byte> payload)
    {
        BinaryPrimitives.WriteUInt64BigEndian(target, number);
        BinaryPrimitives.WriteUInt32BigEndian(target[8..], (uint)blockLength);
        BinaryPrimitives.WriteUInt32BigEndian(target[12..], (uint)payload.Length);
        var block = target.Slice(EntryBytes, blockLength);
        StatusLine.CopyTo(block);
        var at = StatusLine.Length;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                at += Encoding.UTF8.GetBytes(name, block[at..]);
                block[at++] = (byte)':';
                block[at++] = (byte)' ';
                at += Encoding.UTF8.GetBytes(value ?? string.Empty, block[at..]);
                block[at++] = (byte)'\r';
                block[at++] = (byte)'\n';
            }
        }

        block[at++] = (byte)'\r';
        block[at] = (byte)'\n';
        payload.CopyTo(target[(EntryBytes + blockLength)..]);
    }

    /// <summary>Reads the entry head at <paramref name="offset"/> of a payload checked by <see cref="Check"/>.</summary>
    /// <param name="payload">The frame's payload.</param>
    /// <param name="offset">Where the entry starts.</param>
    /// <returns>The request's number and the lengths of its header block and payload.</returns>
    public static (ulong Number, int BlockLength, int PayloadLength) Read(in ReadOnlySequence<byte> payload, long offset)
    {
        Span<byte> entry = stackalloc byte[EntryBytes];
        payload.Slice(offset, EntryBytes).CopyTo(entry);
        return (BinaryPrimitives.ReadUInt64BigEndian(entry), (int)BinaryPrimitives.ReadUInt32BigEndian(entry[8..]), (int)BinaryPrimitives.ReadUInt32BigEndian(entry[12..]));
    }

    /// <summary>Checks that <paramref name="payload"/> is exactly <paramref name="count"/> entries whose lengths fit.</summary>
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
            return $"its Plexus-Count of {count} heads cannot fit its {payload.Length} bytes";
        }

        long offset = 0;
        for (long i = 0; i < count; i++)
        {
            if (payload.Length - offset < EntryBytes)
            {
                return $"head {i + 1} of the {count} it declares is cut short: the payload ends after {payload.Length} bytes";
            }

            var (_, block, body) = Read(payload, offset);
            offset += EntryBytes;
            var length = (long)(uint)block + (uint)body;
            if (length > payload.Length - offset)
            {
                return $"head {i + 1} of the {count} it declares has {length} bytes, but only {payload.Length - offset} bytes of the payload follow";
            }

            offset += length;
        }

        return offset == payload.Length ? null : $"{payload.Length - offset} bytes follow the {count} heads it declares";
    }
}
