namespace Plexus;

/// <summary>A pinned array registered with a bulk transport: what <see cref="IBulkTransport.AllocateAsync"/> gives when the transport has no memory of its own to offer.</summary>
internal sealed class PinnedBulkBuffer(byte[] array, IBulkRegion region) : IBulkBuffer
{
    public Memory<byte> Memory => array;

    public BulkDescriptor Descriptor => region.Descriptor;

    public void Dispose() => region.Dispose();
}
