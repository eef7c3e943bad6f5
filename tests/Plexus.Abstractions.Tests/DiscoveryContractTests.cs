using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class DiscoveryContractTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "ep");
    private static readonly EndpointAddress Other = new("ns", "comp", "other");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_watch_sees_existing_instances_then_updates_and_removals()
    {
        IDiscoveryProvider discovery = new InMemoryDiscoveryProvider(new ManualTimeProvider());
        await using var first = await discovery.RegisterAsync(Make(1, Endpoint), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var elsewhere = await discovery.RegisterAsync(Make(9, Other), TimeSpan.FromSeconds(10), CancellationToken.None);
        using var cts = new CancellationTokenSource();
        await using var watch = discovery.WatchAsync(Endpoint, cts.Token).GetAsyncEnumerator(cts.Token);

        var existing = await Next(watch);
        Assert.Equal(DiscoveryEventKind.Added, existing.Kind);
        Assert.Equal(new InstanceId(1), existing.Instance.Id);

        var second = await discovery.RegisterAsync(Make(2, Endpoint), TimeSpan.FromSeconds(10), CancellationToken.None);
        var added = await Next(watch);
        Assert.Equal((DiscoveryEventKind.Added, new InstanceId(2)), (added.Kind, added.Instance.Id));

        await second.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.8" }, CancellationToken.None);
        var updated = await Next(watch);
        Assert.Equal(DiscoveryEventKind.Updated, updated.Kind);
        Assert.Equal(0.8, updated.Instance.Load);
        Assert.Equal(0.8, second.Instance.Load);

        await second.DisposeAsync();
        var removed = await Next(watch);
        Assert.Equal((DiscoveryEventKind.Removed, new InstanceId(2)), (removed.Kind, removed.Instance.Id));

        await cts.CancelAsync();
        Assert.False(await watch.MoveNextAsync());
    }

    [Fact]
    public async Task List_returns_one_endpoint_or_all()
    {
        IDiscoveryProvider discovery = new InMemoryDiscoveryProvider(new ManualTimeProvider());
        await using var a = await discovery.RegisterAsync(Make(1, Endpoint), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var b = await discovery.RegisterAsync(Make(2, Endpoint), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var c = await discovery.RegisterAsync(Make(3, Other), TimeSpan.FromSeconds(10), CancellationToken.None);

        var one = await discovery.ListAsync(Endpoint, CancellationToken.None);
        var all = await discovery.ListAsync(null, CancellationToken.None);

        Assert.Equal([1ul, 2ul], one.Select(i => i.Id.Value).Order());
        Assert.Equal(3, all.Count);
    }

    [Fact]
    public void A_provider_that_says_nothing_of_its_health_is_healthy()
    {
        // Health (2.3) is a default member: providers written before it compile and report healthy.
        IDiscoveryProvider discovery = new InMemoryDiscoveryProvider(new ManualTimeProvider());
        Assert.Equal(TransportHealth.Healthy, discovery.Health);
    }

    [Fact]
    public async Task A_lease_not_renewed_within_its_time_to_live_is_lost()
    {
        var clock = new ManualTimeProvider();
        IDiscoveryProvider discovery = new InMemoryDiscoveryProvider(clock);
        await using var kept = await discovery.RegisterAsync(Make(1, Endpoint), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var dropped = await discovery.RegisterAsync(Make(2, Endpoint), TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(10), kept.TimeToLive);

        clock.Advance(TimeSpan.FromSeconds(6));
        await kept.RenewAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(6));

        var live = await discovery.ListAsync(Endpoint, CancellationToken.None);
        Assert.Equal(new InstanceId(1), Assert.Single(live).Id);
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await dropped.RenewAsync(CancellationToken.None));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("register again", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disposed_lease_cannot_be_renewed()
    {
        IDiscoveryProvider discovery = new InMemoryDiscoveryProvider(new ManualTimeProvider());
        var lease = await discovery.RegisterAsync(Make(1, Endpoint), TimeSpan.FromSeconds(10), CancellationToken.None);

        await lease.DisposeAsync();

        Assert.Empty(await discovery.ListAsync(Endpoint, CancellationToken.None));
        await Assert.ThrowsAsync<PlexusException>(async () => await lease.RenewAsync(CancellationToken.None));
    }

    private static async Task<DiscoveryEvent> Next(IAsyncEnumerator<DiscoveryEvent> watch)
    {
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Wait));
        return watch.Current;
    }

    private static Instance Make(ulong id, EndpointAddress endpoint) =>
        new(endpoint, new InstanceId(id), "loopback", new Uri($"loopback://server-{id}"));
}
