using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// The request plane's bulk encodings (<c>docs/protocol/bulk.md</c>): a descriptor record, the marker that ends every
/// response message of a stream whose client accepts bulk, and the payloads of the two control endpoints.
/// </summary>
internal static class BulkWire
{
    /// <summary>The message's bytes are the message (the marker byte excluded).</summary>
    public const byte Inline = 0;

    /// <summary>The message is a hold id and a descriptor record; the client pulls the bytes.</summary>
    public const byte Offered = 1;

    /// <summary>The message's bytes are the first part of a message whose rest follows as an <see cref="Offered"/> message.</summary>
    public const byte Continued = 2;

    private const byte Version = 1;
    private const int RecordHead = 12;

    /// <summary>The endpoint a client calls when it has pulled an offered message: the server may let go of it.</summary>
    public static readonly EndpointAddress Release = EndpointAddress.Parse("plexus/bulk/release");

    /// <summary>The endpoint a client calls when it could not pull an offered message: the server sends the bytes inline.</summary>
    public static readonly EndpointAddress Fetch = EndpointAddress.Parse("plexus/bulk/fetch");

    public static int RecordLength(BulkDescriptor descriptor) => RecordHead + descriptor.Token.Length;

    /// <summary>Writes version, memory type, reserved, length (u64) and the transport's token.</summary>
    public static void WriteRecord(Span<byte> destination, BulkDescriptor descriptor, long length)
    {
        destination[0] = Version;
        destination[1] = (byte)descriptor.MemoryType;
        destination[2] = 0;
        destination[3] = 0;
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], length);
        descriptor.Token.Span.CopyTo(destination[RecordHead..]);
    }

    public static byte[] Record(BulkDescriptor descriptor, long length)
    {
        var record = new byte[RecordLength(descriptor)];
        WriteRecord(record, descriptor, length);
        return record;
    }

    /// <summary>Reads a record written by <see cref="WriteRecord"/>; the descriptor's length is the payload's.</summary>
    /// <exception cref="PlexusException">The bytes are not a record this version knows.</exception>
    public static BulkDescriptor ReadRecord(ReadOnlySequence<byte> record, string transport)
    {
        if (record.Length < RecordHead)
        {
            throw Malformed($"{record.Length} bytes, fewer than the record's {RecordHead}-byte head");
        }

        var bytes = record.IsSingleSegment ? record.First : record.ToArray();
        var span = bytes.Span;
        if (span[0] != Version)
        {
            throw Malformed($"version {span[0]}, this node reads version {Version}");
        }

        if (span[1] != (byte)BulkMemoryType.Host)
        {
            throw Malformed($"memory type {span[1]}, this node reads host memory (0) only");
        }

        var length = BinaryPrimitives.ReadInt64LittleEndian(span[4..]);
        if (length <= 0)
        {
            throw Malformed($"a length of {length}");
        }

        // The token is kept beyond the message it came in, whose buffer the transport reuses.
        return new BulkDescriptor(transport, length, bytes[RecordHead..].ToArray());
    }

    public static ulong ReadHoldId(ReadOnlySequence<byte> payload)
    {
        if (payload.Length < sizeof(ulong))
        {
            throw Malformed($"a hold id of {payload.Length} bytes instead of 8");
        }

        Span<byte> id = stackalloc byte[sizeof(ulong)];
        payload.Slice(0, sizeof(ulong)).CopyTo(id);
        return BinaryPrimitives.ReadUInt64LittleEndian(id);
    }

    public static byte[] HoldId(ulong id)
    {
        var bytes = new byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, id);
        return bytes;
    }

    private static PlexusException Malformed(string what) =>
        new(PlexusErrorCode.ProtocolError, $"A bulk descriptor record was malformed ({what}); both ends must run a Plexus that speaks bulk record version {Version}.");
}
