namespace Plexus.Host.Tests.Discovery;

/// <summary>What every discovery provider must do; each provider's test class runs these against itself.</summary>
public abstract class DiscoveryProviderBehaviour : IAsyncLifetime
{
    protected static readonly EndpointAddress Workers = new("plexus-test", "workers", "generate");
    protected static readonly EndpointAddress Others = new("plexus-test", "workers", "embed");

    private readonly List<IAsyncDisposable> _cleanup = [];

    /// <summary>The provider under test, fresh for each test.</summary>
    protected abstract IDiscoveryProvider Provider { get; }

    /// <summary>A time to live short enough for <see cref="ElapseAsync"/> to pass it in a test.</summary>
    protected abstract TimeSpan Ttl { get; }

    /// <summary>Lets <paramref name="duration"/> pass on the provider's clock.</summary>
    protected abstract Task ElapseAsync(TimeSpan duration);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--)
        {
            await _cleanup[i].DisposeAsync();
        }
    }

    protected static Instance NewInstance(EndpointAddress endpoint, ulong id, string? load = null) =>
        new(
            endpoint,
            new InstanceId(id),
            "tcp",
            new Uri($"tcp://127.0.0.1:{7000 + (int)(id % 1000)}"),
            load is null ? Instance.EmptyMetadata : new Dictionary<string, string> { [InstanceMetadataKeys.Load] = load });

    protected async Task<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan? ttl = null)
    {
        var lease = await Provider.RegisterAsync(instance, ttl ?? Ttl, CancellationToken.None);
        _cleanup.Add(lease);
        return lease;
    }

    private protected WatchPump Watch(EndpointAddress endpoint)
    {
        var pump = new WatchPump(Provider, endpoint);
        _cleanup.Add(pump);
        return pump;
    }

    protected async Task<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint) =>
        await Provider.ListAsync(endpoint, CancellationToken.None);

    [Fact]
    public async Task Registered_instance_is_listed_under_its_endpoint_and_in_the_full_list()
    {
        var a = NewInstance(Workers, 1, "0.25");
        var b = NewInstance(Others, 2);
        await RegisterAsync(a);
        await RegisterAsync(b);

        var workers = await ListAsync(Workers);
        var all = await ListAsync(null);

        Assert.Equal([a], workers);
        Assert.Equal(0.25, workers[0].Load);
        Assert.Equal(2, all.Count);
        Assert.Contains(a, all);
        Assert.Contains(b, all);
    }

    [Fact]
    public async Task Watch_starts_with_one_Added_per_existing_instance_then_reports_changes()
    {
        var a = NewInstance(Workers, 1);
        var b = NewInstance(Workers, 2);
        var leaseA = await RegisterAsync(a);
        await RegisterAsync(b);
        var watch = Watch(Workers);

        var snapshot = await watch.NextAsync(2);
        Assert.All(snapshot, e => Assert.Equal(DiscoveryEventKind.Added, e.Kind));
        Assert.Equal([a, b], snapshot.Select(e => e.Instance).OrderBy(i => i.Id.Value));

        var c = NewInstance(Workers, 3);
        var leaseC = await RegisterAsync(c);
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Added, c), await watch.NextAsync());

        await leaseC.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.9" }, CancellationToken.None);
        var updated = await watch.NextAsync();
        Assert.Equal(DiscoveryEventKind.Updated, updated.Kind);
        Assert.Equal(c.Id, updated.Instance.Id);
        Assert.Equal(0.9, updated.Instance.Load);

        await leaseA.DisposeAsync();
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Removed, a), await watch.NextAsync());
    }

    [Fact]
    public async Task Disposing_the_lease_removes_the_instance_at_once()
    {
        var a = NewInstance(Workers, 1);
        var b = NewInstance(Workers, 2);
        var leaseA = await RegisterAsync(a);
        await RegisterAsync(b);
        var watch = Watch(Workers);
        await watch.NextAsync(2);

        await leaseA.DisposeAsync();

        // No time passes between the disposal and the listing: removal does not wait for expiry.
        Assert.Equal([b], await ListAsync(Workers));
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Removed, a), await watch.NextAsync());

        await leaseA.DisposeAsync();
        Assert.Equal([b], await ListAsync(Workers));
    }

    [Fact]
    public async Task Lease_expires_when_not_renewed()
    {
        var a = NewInstance(Workers, 1);
        var lease = await RegisterAsync(a);
        var watch = Watch(Workers);
        Assert.Equal(DiscoveryEventKind.Added, (await watch.NextAsync()).Kind);

        await ElapseAsync(Ttl + (Ttl / 2));

        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Removed, a), await watch.NextAsync());
        Assert.Empty(await ListAsync(Workers));
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await lease.RenewAsync(CancellationToken.None));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("register the instance again", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Renewing_keeps_the_lease_alive_past_its_time_to_live_without_events()
    {
        var a = NewInstance(Workers, 1);
        var lease = await RegisterAsync(a);
        var watch = Watch(Workers);
        Assert.Equal(DiscoveryEventKind.Added, (await watch.NextAsync()).Kind);

        for (var i = 0; i < 6; i++)
        {
            await ElapseAsync(Ttl / 4);
            await lease.RenewAsync(CancellationToken.None);
        }

        Assert.Equal([a], await ListAsync(Workers));

        // The next event after all those renewals is this update: renewals neither removed nor changed the instance.
        await lease.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.7" }, CancellationToken.None);
        var next = await watch.NextAsync();
        Assert.Equal(DiscoveryEventKind.Updated, next.Kind);
        Assert.Equal(0.7, next.Instance.Load);
    }

    [Fact]
    public async Task Update_replaces_metadata_for_the_lease_listings_and_watchers()
    {
        var a = NewInstance(Workers, 1, "0.1");
        var lease = await RegisterAsync(a);
        var watch = Watch(Workers);
        await watch.NextAsync();

        var metadata = new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.5", [InstanceMetadataKeys.Busy] = "true" };
        await lease.UpdateAsync(metadata, CancellationToken.None);
        metadata[InstanceMetadataKeys.Load] = "99";

        var expected = a with { Metadata = new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.5", [InstanceMetadataKeys.Busy] = "true" } };
        Assert.Equal(expected, lease.Instance);
        Assert.Equal([expected], await ListAsync(Workers));
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Updated, expected), await watch.NextAsync());
        Assert.True((await ListAsync(Workers))[0].IsBusy);
    }

    [Fact]
    public async Task Endpoints_are_isolated()
    {
        var watch = Watch(Workers);
        var other = NewInstance(Others, 1);
        var mine = NewInstance(Workers, 1);

        await RegisterAsync(other);
        await RegisterAsync(mine);

        // The same id on two endpoints is two instances; the watcher sees only its own endpoint's.
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Added, mine), await watch.NextAsync());
        Assert.Equal([mine], await ListAsync(Workers));
        Assert.Equal([other], await ListAsync(Others));
        Assert.Empty(await ListAsync(new EndpointAddress("plexus-test", "nobody", "generate")));
    }

    [Fact]
    public async Task Cancelling_ends_the_watch()
    {
        await RegisterAsync(NewInstance(Workers, 1));
        var watch = Watch(Workers);
        await watch.NextAsync();

        watch.Cancel();

        await watch.Completion.WaitAsync(WatchPump.DefaultTimeout);
        Assert.True(watch.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_watch_started_with_a_cancelled_token_ends_without_events()
    {
        await RegisterAsync(NewInstance(Workers, 1));
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var seen = 0;
        var enumerate = Task.Run(async () =>
        {
            await foreach (var unused in Provider.WatchAsync(Workers, cts.Token))
            {
                seen++;
            }
        });

        // Bounded: a watch that ignored the token would wait for changes forever.
        await enumerate.WaitAsync(WatchPump.DefaultTimeout);

        // The snapshot may or may not be delivered, but the watch must end rather than wait for changes.
        Assert.InRange(seen, 0, 1);
    }

    [Fact]
    public async Task Registering_an_id_again_replaces_the_earlier_registration()
    {
        var first = NewInstance(Workers, 1);
        var leaseFirst = await RegisterAsync(first);
        var watch = Watch(Workers);
        await watch.NextAsync();

        var second = first with { Address = new Uri("tcp://127.0.0.1:9999") };
        var leaseSecond = await RegisterAsync(second);

        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Updated, second), await watch.NextAsync());
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await leaseFirst.RenewAsync(CancellationToken.None));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);

        // The superseded lease must not take the newer registration with it.
        await leaseFirst.DisposeAsync();
        Assert.Equal([second], await ListAsync(Workers));
        await leaseSecond.RenewAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Time_to_live_must_be_positive()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await Provider.RegisterAsync(NewInstance(Workers, 1), TimeSpan.Zero, CancellationToken.None));
        Assert.Empty(await ListAsync(null));
    }
}
