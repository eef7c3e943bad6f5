using Plexus.Hosting.Discovery;

namespace Plexus.Host.Tests.Discovery;

public sealed class InMemoryDiscoveryProviderTests : DiscoveryProviderBehaviour
{
    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryDiscoveryProvider _provider;

    public InMemoryDiscoveryProviderTests()
    {
        _provider = new InMemoryDiscoveryProvider(_clock);
    }

    protected override IDiscoveryProvider Provider => _provider;

    protected override TimeSpan Ttl => TimeSpan.FromSeconds(10);

    protected override Task ElapseAsync(TimeSpan duration)
    {
        _clock.Advance(duration);
        return Task.CompletedTask;
    }

    [Fact]
    public void Name_is_memory() => Assert.Equal("memory", _provider.Name);

    [Fact]
    public async Task Expiry_follows_the_injected_clock_exactly()
    {
        var a = NewInstance(Workers, 1);
        await RegisterAsync(a);

        _clock.Advance(Ttl - TimeSpan.FromTicks(1));
        Assert.Equal([a], await ListAsync(Workers));

        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Empty(await ListAsync(Workers));
    }

    [Fact]
    public async Task Renewal_counts_the_time_to_live_from_the_renewal()
    {
        var a = NewInstance(Workers, 1);
        var lease = await RegisterAsync(a);

        _clock.Advance(TimeSpan.FromSeconds(8));
        await lease.RenewAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal([a], await ListAsync(Workers));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await ListAsync(Workers));
    }

    [Fact]
    public async Task A_slow_watcher_neither_blocks_registrations_nor_queues_every_step()
    {
        var anchor = NewInstance(Workers, 1);
        await RegisterAsync(anchor);
        var enumerator = _provider.WatchAsync(Workers, CancellationToken.None).GetAsyncEnumerator();
        try
        {
            Assert.True(await enumerator.MoveNextAsync());
            Assert.Equal(anchor, enumerator.Current.Instance);

            // The watcher reads nothing while 5,000 registrations come and go; each call must return at once.
            IDiscoveryLease? survivor = null;
            for (ulong id = 100; id < 5_100; id++)
            {
                var lease = await _provider.RegisterAsync(NewInstance(Workers, id), Ttl, CancellationToken.None);
                await lease.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.1" }, CancellationToken.None);
                if (id == 4_242)
                {
                    survivor = lease;
                }
                else
                {
                    await lease.DisposeAsync();
                }
            }

            await survivor!.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.8" }, CancellationToken.None);

            // Coalesced: only the net change arrives — one Added with the final metadata, nothing for the rest.
            Assert.True(await enumerator.MoveNextAsync().AsTask().WaitAsync(WatchPump.DefaultTimeout));
            Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Added, survivor.Instance), enumerator.Current);
            Assert.Equal(0.8, enumerator.Current.Instance.Load);

            var late = NewInstance(Workers, 9_999);
            await RegisterAsync(late);
            Assert.True(await enumerator.MoveNextAsync().AsTask().WaitAsync(WatchPump.DefaultTimeout));
            Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Added, late), enumerator.Current);
            await survivor.DisposeAsync();
        }
        finally
        {
            await enumerator.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_watcher_that_falls_far_behind_still_converges_on_the_current_set()
    {
        var keep = new List<Instance>();
        var enumerator = _provider.WatchAsync(Workers, CancellationToken.None).GetAsyncEnumerator();
        try
        {
            // The first MoveNext takes the empty snapshot and waits for a change.
            var first = enumerator.MoveNextAsync();
            for (ulong id = 1; id <= 10_000; id++)
            {
                var lease = await RegisterAsync(NewInstance(Workers, id));
                if (id % 1_000 == 0)
                {
                    keep.Add(lease.Instance);
                }
                else
                {
                    await lease.DisposeAsync();
                }
            }

            // Applying the events in order must arrive at the current set; an early batch may be stale, later ones net.
            var seen = new Dictionary<InstanceId, Instance>();
            var events = 0;
            var more = await first.AsTask().WaitAsync(WatchPump.DefaultTimeout);
            while (more)
            {
                events++;
                var e = enumerator.Current;
                if (e.Kind == DiscoveryEventKind.Removed)
                {
                    Assert.True(seen.Remove(e.Instance.Id));
                }
                else
                {
                    seen[e.Instance.Id] = e.Instance;
                }

                if (seen.Count == keep.Count && keep.All(i => seen.ContainsKey(i.Id)))
                {
                    break;
                }

                more = await enumerator.MoveNextAsync().AsTask().WaitAsync(WatchPump.DefaultTimeout);
            }

            // 20,000 changes happened; a watcher that queued each one would have received them all.
            Assert.InRange(events, keep.Count, 10_000);
            Assert.Equal(keep.OrderBy(i => i.Id.Value), seen.Values.OrderBy(i => i.Id.Value));
        }
        finally
        {
            await enumerator.DisposeAsync();
        }
    }
}
