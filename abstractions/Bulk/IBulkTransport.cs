namespace Plexus;

/// <summary>
/// An accelerator that moves large payloads out of band, such as RDMA. When <see cref="IsAvailable"/> is false the
/// request plane sends payloads inline instead, without the caller noticing.
/// </summary>
public interface IBulkTransport
{
    /// <summary>The bulk transport's name, such as <c>ucx</c>.</summary>
    string Name { get; }

    /// <summary>Whether it can be used on this machine.</summary>
    bool IsAvailable { get; }

    /// <summary>Registers local memory so that peers can read or write it by descriptor.</summary>
    /// <param name="memory">The memory; it stays pinned until the region is disposed.</param>
    /// <param name="access">What peers may do with it.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>The registered region.</returns>
    ValueTask<IBulkRegion> RegisterAsync(Memory<byte> memory, BulkAccess access, CancellationToken cancellationToken);

    /// <summary>Reads a remote region into local memory.</summary>
    /// <param name="remote">The remote region's descriptor.</param>
    /// <param name="destination">Where the bytes go; its length is how many are read.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <returns>A task that completes when the bytes arrived.</returns>
    ValueTask ReadAsync(BulkDescriptor remote, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Writes local bytes into a remote region.</summary>
    /// <param name="remote">The remote region's descriptor.</param>
    /// <param name="source">The bytes.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <returns>A task that completes when the bytes are in place.</returns>
    ValueTask WriteAsync(BulkDescriptor remote, ReadOnlyMemory<byte> source, CancellationToken cancellationToken);
}
