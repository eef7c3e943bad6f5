using System.Buffers.Binary;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>A bulk transport over a shared in-process fabric; each instance plays one process.</summary>
internal sealed class LoopbackBulkTransport : IBulkTransport
{
    private readonly LoopbackBulkFabric _fabric;

    public LoopbackBulkTransport(LoopbackBulkFabric fabric, bool available = true)
    {
        _fabric = fabric;
        IsAvailable = available;
    }

    public string Name => "loopback-bulk";

    public bool IsAvailable { get; }

    public ValueTask<IBulkRegion> RegisterAsync(Memory<byte> memory, BulkAccess access, CancellationToken cancellationToken)
    {
        EnsureAvailable();
        var key = _fabric.NextKey();
        var token = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(token, key);
        var region = new LoopbackBulkRegion(_fabric, key, memory, access, new BulkDescriptor(Name, memory.Length, token));
        _fabric.Regions[key] = region;
        return ValueTask.FromResult<IBulkRegion>(region);
    }

    public ValueTask ReadAsync(BulkDescriptor remote, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var region = Resolve(remote, BulkAccess.Read, destination.Length);
        region.Memory.Span[..destination.Length].CopyTo(destination.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(BulkDescriptor remote, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        var region = Resolve(remote, BulkAccess.Write, source.Length);
        source.Span.CopyTo(region.Memory.Span);
        return ValueTask.CompletedTask;
    }

    private LoopbackBulkRegion Resolve(BulkDescriptor remote, BulkAccess needed, int length)
    {
        ArgumentNullException.ThrowIfNull(remote);
        EnsureAvailable();
        if (remote.Transport != Name || remote.Token.Length != sizeof(long))
        {
            throw PlexusException.Protocol($"The descriptor is for bulk transport '{remote.Transport}', not '{Name}'.");
        }

        var key = BinaryPrimitives.ReadInt64LittleEndian(remote.Token.Span);
        if (!_fabric.Regions.TryGetValue(key, out var region))
        {
            throw PlexusException.Unavailable($"Region {key} is no longer registered.");
        }

        if ((region.Access & needed) != needed)
        {
            throw PlexusException.Protocol($"Region {key} does not allow {needed}; it was registered for {region.Access}.");
        }

        if (length > region.Memory.Length)
        {
            throw PlexusException.TooLarge("bulk transfer", length, region.Memory.Length, "the remote region's length");
        }

        return region;
    }

    private void EnsureAvailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException("The loopback bulk transport is not available; send the payload inline.");
        }
    }
}
