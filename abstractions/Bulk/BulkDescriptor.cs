namespace Plexus;

/// <summary>An opaque, serialisable reference to a registered region, meaningful to the bulk transport that made it.</summary>
/// <param name="Transport">The name of the bulk transport.</param>
/// <param name="Length">The region's length in bytes.</param>
/// <param name="Token">The transport's own bytes (address, keys).</param>
public sealed record BulkDescriptor(string Transport, long Length, ReadOnlyMemory<byte> Token)
{
    /// <summary>Where the region's bytes live; <see cref="BulkMemoryType.Host"/> unless the transport says otherwise.</summary>
    public BulkMemoryType MemoryType { get; init; } = BulkMemoryType.Host;
}
