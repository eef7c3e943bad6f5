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

    /// <summary>
    /// What the transport runs on here, such as UCX's transports (<c>posix,cma,tcp</c>): advertised in instance
    /// metadata and shown on the status page. Empty by default.
    /// </summary>
    string Details => string.Empty;

    /// <summary>Registers local memory so that peers can read or write it by descriptor.</summary>
    /// <param name="memory">The memory; it stays pinned until the region is disposed.</param>
    /// <param name="access">What peers may do with it.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>The registered region.</returns>
    ValueTask<IBulkRegion> RegisterAsync(Memory<byte> memory, BulkAccess access, CancellationToken cancellationToken);

    /// <summary>
    /// Allocates <paramref name="length"/> bytes of registered memory that this process fills or reads through
    /// <see cref="IBulkBuffer.Memory"/>. Transports whose own memory moves faster (UCX's, for one) override this; the
    /// default registers a pinned array.
    /// </summary>
    /// <param name="length">The number of bytes.</param>
    /// <param name="access">What peers may do with it.</param>
    /// <param name="cancellationToken">Cancels the allocation.</param>
    /// <returns>The buffer; dispose it to unregister it.</returns>
    async ValueTask<IBulkBuffer> AllocateAsync(int length, BulkAccess access, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var array = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        var region = await RegisterAsync(array, access, cancellationToken).ConfigureAwait(false);
        return new PinnedBulkBuffer(array, region);
    }

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
