namespace Plexus.Abstractions.Tests.Toys;

/// <summary>Memory registered with <see cref="LoopbackBulkTransport"/>.</summary>
internal sealed class LoopbackBulkRegion : IBulkRegion
{
    private readonly LoopbackBulkFabric _fabric;
    private readonly long _key;

    public LoopbackBulkRegion(LoopbackBulkFabric fabric, long key, Memory<byte> memory, BulkAccess access, BulkDescriptor descriptor)
    {
        _fabric = fabric;
        _key = key;
        Memory = memory;
        Access = access;
        Descriptor = descriptor;
    }

    public BulkDescriptor Descriptor { get; }

    public Memory<byte> Memory { get; }

    public BulkAccess Access { get; }

    public void Dispose() => _fabric.Regions.TryRemove(_key, out _);
}
