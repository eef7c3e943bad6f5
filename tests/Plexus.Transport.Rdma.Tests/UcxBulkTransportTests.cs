using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Rdma.Tests;

/// <summary>
/// The ucx bulk transport on the real UCX: two transports (two UCX contexts and worker threads) in this process, one
/// owning memory and handing out its descriptor, the other reading and writing it one-sided, with content checks.
/// </summary>
public sealed class UcxBulkTransportTests : IDisposable
{
    private readonly UcxBulkTransport _owner = Create();
    private readonly UcxBulkTransport _peer = Create();

    public void Dispose()
    {
        _peer.Dispose();
        _owner.Dispose();
    }

    [Fact]
    public void UCX_is_available_on_this_machine()
    {
        Assert.True(_owner.IsAvailable, _owner.UnavailableReason);
        Assert.Equal("ucx", _owner.Name);
    }

    [Theory]
    [InlineData(1024 * 1024)]
    [InlineData(64 * 1024 * 1024)]
    public async Task A_peer_reads_a_registered_region_byte_for_byte(int size)
    {
        var memory = new byte[size];
        new Random(size).NextBytes(memory);
        using var region = await _owner.RegisterAsync(memory, BulkAccess.Read, CancellationToken.None);

        var copy = new byte[size];
        await _peer.ReadAsync(region.Descriptor, copy, CancellationToken.None);

        Assert.True(memory.AsSpan().SequenceEqual(copy), "the bytes read differ from the region's");
        Assert.Equal(size, region.Descriptor.Length);
        Assert.Equal("ucx", region.Descriptor.Transport);
    }

    [Theory]
    [InlineData(1024 * 1024)]
    [InlineData(64 * 1024 * 1024)]
    public async Task A_peer_writes_into_a_writable_region_and_the_owner_sees_every_byte(int size)
    {
        var memory = new byte[size];
        using var region = await _owner.RegisterAsync(memory, BulkAccess.ReadWrite, CancellationToken.None);

        var source = new byte[size];
        new Random(size + 1).NextBytes(source);
        await _peer.WriteAsync(region.Descriptor, source, CancellationToken.None);

        Assert.True(source.AsSpan().SequenceEqual(memory), "the region does not hold the bytes written");
    }

    [Fact]
    public async Task A_peer_reads_and_writes_a_region_in_memory_UCX_allocated()
    {
        const int Size = 4 * 1024 * 1024;
        var region = await _owner.AllocateAsync(Size, BulkAccess.ReadWrite, CancellationToken.None);
        try
        {
            new Random(9).NextBytes(region.Memory.Span);
            var copy = new byte[Size];
            await _peer.ReadAsync(region.Descriptor, copy, CancellationToken.None);
            Assert.True(region.Memory.Span.SequenceEqual(copy), "the bytes read differ from the allocated region's");

            var source = new byte[Size];
            new Random(10).NextBytes(source);
            await _peer.WriteAsync(region.Descriptor, source, CancellationToken.None);
            Assert.True(region.Memory.Span.SequenceEqual(source), "the allocated region does not hold the bytes written");
        }
        finally
        {
            ((IDisposable)region).Dispose();
        }

        Assert.Throws<ObjectDisposedException>(() => region.Memory.Span.Length);
    }

    [Fact]
    public async Task A_write_to_a_read_only_region_is_refused()
    {
        var memory = new byte[4096];
        using var region = await _owner.RegisterAsync(memory, BulkAccess.Read, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<PlexusException>(async () => await _peer.WriteAsync(region.Descriptor, new byte[16], CancellationToken.None));
        Assert.Contains("did not allow writing", refused.Message, StringComparison.Ordinal);
        Assert.All(memory, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task A_transfer_longer_than_the_region_is_refused_before_it_starts()
    {
        using var region = await _owner.RegisterAsync(new byte[1024], BulkAccess.Read, CancellationToken.None);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _peer.ReadAsync(region.Descriptor, new byte[2048], CancellationToken.None));
    }

    [Fact]
    public async Task A_descriptor_that_is_not_UCX_is_a_protocol_error()
    {
        var error = await Assert.ThrowsAsync<PlexusException>(async () =>
            await _peer.ReadAsync(new BulkDescriptor("ucx", 10, new byte[] { 9, 9, 9 }), new byte[10], CancellationToken.None));
        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
    }

    [Fact]
    public void UCX_settings_that_name_no_usable_transport_make_the_transport_unavailable_saying_why()
    {
        using var transport = Create(new Dictionary<string, string> { ["TLS"] = "no-such-transport" });

        Assert.False(transport.IsAvailable);
        Assert.Contains("TLS", transport.UnavailableReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transfer_from_an_owner_that_is_gone_fails_with_a_typed_error_within_the_bound()
    {
        var owner = Create();
        var memory = new byte[1024 * 1024];
        var region = await owner.RegisterAsync(memory, BulkAccess.Read, CancellationToken.None);
        var descriptor = region.Descriptor;
        owner.Dispose();

        using var reader = Create(timeout: TimeSpan.FromSeconds(3));
        var started = TimeProvider.System.GetTimestamp();
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await reader.ReadAsync(descriptor, new byte[memory.Length], CancellationToken.None));

        Assert.True(error.Code is PlexusErrorCode.Unavailable or PlexusErrorCode.Timeout, error.ToString());
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10), "the failed transfer should end within the transfer timeout");
    }

    private static UcxBulkTransport Create(TimeSpan timeout) =>
        new(Options.Create(new UcxBulkOptions { TransferTimeout = timeout }), NullLogger<UcxBulkTransport>.Instance);

    private static UcxBulkTransport Create(Dictionary<string, string>? settings = null) =>
        new(Options.Create(new UcxBulkOptions { Settings = settings ?? new(StringComparer.OrdinalIgnoreCase) }), NullLogger<UcxBulkTransport>.Instance);
}
