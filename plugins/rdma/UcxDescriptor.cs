using System.Buffers.Binary;

namespace Plexus.Transport.Rdma;

/// <summary>
/// What a peer needs to reach a registered region, as the bytes of a <see cref="BulkDescriptor"/>'s token
/// (docs/protocol/bulk.md): version, access, memory type, the region's address and length in the owner's process, the
/// owner worker's UCX address and the packed remote key. Little-endian.
/// </summary>
internal readonly record struct UcxDescriptor(BulkAccess Access, byte MemoryType, ulong Address, ulong Length, byte[] WorkerAddress, byte[] RemoteKey)
{
    public const byte Version = 1;

    /// <summary>Host memory; the field leaves room for device memory.</summary>
    public const byte HostMemory = 0;

    private const int FixedBytes = 1 + 1 + 1 + 1 + 8 + 8 + 2 + 2;

    public byte[] Encode()
    {
        var token = new byte[FixedBytes + WorkerAddress.Length + RemoteKey.Length];
        var span = token.AsSpan();
        span[0] = Version;
        span[1] = (byte)Access;
        span[2] = MemoryType;
        span[3] = 0;
        BinaryPrimitives.WriteUInt64LittleEndian(span[4..], Address);
        BinaryPrimitives.WriteUInt64LittleEndian(span[12..], Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], (ushort)WorkerAddress.Length);
        WorkerAddress.CopyTo(span[22..]);
        var at = 22 + WorkerAddress.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)RemoteKey.Length);
        RemoteKey.CopyTo(span[(at + 2)..]);
        return token;
    }

    /// <summary>Reads a token.</summary>
    /// <exception cref="PlexusException">The token is not a UCX descriptor of a version this side reads (ProtocolError).</exception>
    public static UcxDescriptor Decode(BulkDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (!string.Equals(descriptor.Transport, UcxBulkTransport.TransportName, StringComparison.Ordinal))
        {
            throw PlexusException.Protocol($"The bulk descriptor is for transport '{descriptor.Transport}', not '{UcxBulkTransport.TransportName}'.");
        }

        var span = descriptor.Token.Span;
        if (span.Length < FixedBytes || span[0] != Version)
        {
            throw PlexusException.Protocol($"The bulk descriptor is not a version-{Version} UCX descriptor ({span.Length} bytes).");
        }

        var workerLength = BinaryPrimitives.ReadUInt16LittleEndian(span[20..]);
        if (span.Length < FixedBytes + workerLength)
        {
            throw PlexusException.Protocol("The bulk descriptor's worker address is cut short.");
        }

        var at = 22 + workerLength;
        var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
        if (span.Length != FixedBytes + workerLength + keyLength)
        {
            throw PlexusException.Protocol("The bulk descriptor's remote key is cut short or followed by extra bytes.");
        }

        return new UcxDescriptor(
            (BulkAccess)span[1], span[2],
            BinaryPrimitives.ReadUInt64LittleEndian(span[4..]), BinaryPrimitives.ReadUInt64LittleEndian(span[12..]),
            span.Slice(22, workerLength).ToArray(), span.Slice(at + 2, keyLength).ToArray());
    }
}
