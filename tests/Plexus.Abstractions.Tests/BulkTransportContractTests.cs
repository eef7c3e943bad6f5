using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class BulkTransportContractTests
{
    [Fact]
    public async Task A_peer_reads_and_writes_a_registered_region_by_descriptor()
    {
        var fabric = new LoopbackBulkFabric();
        IBulkTransport owner = new LoopbackBulkTransport(fabric);
        IBulkTransport peer = new LoopbackBulkTransport(fabric);
        var memory = new byte[8];

        using var region = await owner.RegisterAsync(memory, BulkAccess.ReadWrite, CancellationToken.None);
        Assert.Equal(owner.Name, region.Descriptor.Transport);
        Assert.Equal(8, region.Descriptor.Length);

        await peer.WriteAsync(region.Descriptor, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, CancellationToken.None);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, memory);

        var back = new byte[5];
        await peer.ReadAsync(region.Descriptor, back, CancellationToken.None);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, back);
    }

    [Fact]
    public async Task Access_is_enforced()
    {
        var fabric = new LoopbackBulkFabric();
        IBulkTransport transport = new LoopbackBulkTransport(fabric);
        using var readOnly = await transport.RegisterAsync(new byte[4], BulkAccess.Read, CancellationToken.None);
        using var writeOnly = await transport.RegisterAsync(new byte[4], BulkAccess.Write, CancellationToken.None);

        var write = await Assert.ThrowsAsync<PlexusException>(async () => await transport.WriteAsync(readOnly.Descriptor, new byte[4], CancellationToken.None));
        var read = await Assert.ThrowsAsync<PlexusException>(async () => await transport.ReadAsync(writeOnly.Descriptor, new byte[4], CancellationToken.None));

        Assert.Contains("does not allow Write", write.Message, StringComparison.Ordinal);
        Assert.Contains("does not allow Read", read.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disposed_region_is_unavailable_to_peers()
    {
        IBulkTransport transport = new LoopbackBulkTransport(new LoopbackBulkFabric());
        var region = await transport.RegisterAsync(new byte[4], BulkAccess.ReadWrite, CancellationToken.None);
        var descriptor = region.Descriptor;

        region.Dispose();

        var error = await Assert.ThrowsAsync<PlexusException>(async () => await transport.ReadAsync(descriptor, new byte[4], CancellationToken.None));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
    }

    [Fact]
    public async Task A_transfer_longer_than_the_region_is_too_large()
    {
        IBulkTransport transport = new LoopbackBulkTransport(new LoopbackBulkFabric());
        using var region = await transport.RegisterAsync(new byte[4], BulkAccess.ReadWrite, CancellationToken.None);

        var error = await Assert.ThrowsAsync<PlexusException>(async () => await transport.WriteAsync(region.Descriptor, new byte[5], CancellationToken.None));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
    }

    [Fact]
    public async Task A_descriptor_from_another_bulk_transport_is_refused()
    {
        IBulkTransport transport = new LoopbackBulkTransport(new LoopbackBulkFabric());
        var foreign = new BulkDescriptor("ucx", 4, new byte[8]);

        var error = await Assert.ThrowsAsync<PlexusException>(async () => await transport.ReadAsync(foreign, new byte[4], CancellationToken.None));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("'ucx'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unavailable_bulk_transport_says_so()
    {
        IBulkTransport transport = new LoopbackBulkTransport(new LoopbackBulkFabric(), available: false);

        Assert.False(transport.IsAvailable);
    }

    [Fact]
    public void BulkAccess_read_write_is_both_flags()
    {
        Assert.Equal(BulkAccess.Read | BulkAccess.Write, BulkAccess.ReadWrite);
        Assert.True(BulkAccess.ReadWrite.HasFlag(BulkAccess.Read));
        Assert.False(BulkAccess.Read.HasFlag(BulkAccess.Write));
    }
}
