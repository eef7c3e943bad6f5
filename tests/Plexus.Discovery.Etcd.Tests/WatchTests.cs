using Etcdserverpb;
using Plexus.Discovery.Etcd.Tests.Support;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>
/// Watches across outages: resumed from the last revision seen (every change of the outage delivered once), and a
/// fresh listing whose difference is passed on when etcd compacted that revision away.
/// </summary>
public sealed class WatchTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "watched");

    private static string Key(ulong id) => $"/plexus-test/ns/comp/watched/{new InstanceId(id)}";

    private static Task PutAsync(dotnet_etcd.EtcdClient client, ulong id, string? load = null) =>
        client.PutAsync(Key(id), System.Text.Encoding.UTF8.GetString(EtcdInstanceRecord.Serialize(TestEtcd.Instance(Endpoint, id, load))));

    [Fact(Timeout = 90_000)]
    public async Task A_watch_resumes_after_an_etcd_restart_with_every_change_made_while_it_was_away_once()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        await using var network = new TcpRelay(etcd.ClientPort);
        var log = new RecordingLogger();
        await using var watcher = TestEtcd.Provider(log, network.Url);
        using (var admin = TestEtcd.Client(etcd.ClientUrl))
        {
            await PutAsync(admin, 1);
            await PutAsync(admin, 2);
        }

        await using var watch = new WatchReader(watcher, Endpoint);
        var state = await watch.ReadUntilAsync([], s => s.Count == 2, TestEtcd.Wait);

        // etcd restarts while this watcher cannot reach it; changes are made before it can.
        watch.KeepReading();
        network.Cut();
        await etcd.KillAsync();
        await etcd.RestartAsync();
        using (var admin = TestEtcd.Client(etcd.ClientUrl))
        {
            await PutAsync(admin, 3);
            await PutAsync(admin, 4);
            await admin.DeleteAsync(Key(4));
            await PutAsync(admin, 2, load: "0.7");
            await admin.DeleteAsync(Key(1));
        }

        await TestEtcd.EventuallyAsync(() => watcher.Health.Status == HealthStatus.Degraded, "the watcher reports its watch disconnected");
        Assert.Contains("watch of ns/comp/watched is disconnected", watcher.Health.Description, StringComparison.Ordinal);
        network.Restore();

        // Exactly the changes, in order: nothing missed, nothing twice.
        var before = watch.Seen.Count;
        state = await watch.ReadUntilAsync(state, s => s.Count == 2 && s.ContainsKey(new InstanceId(3)) && !s.ContainsKey(new InstanceId(1)), TestEtcd.Wait);
        var replayed = watch.Seen.Skip(before).Select(e => (e.Kind, e.Instance.Id.Value)).ToList();
        Assert.Equal(
            [(DiscoveryEventKind.Added, 3ul), (DiscoveryEventKind.Added, 4ul), (DiscoveryEventKind.Removed, 4ul), (DiscoveryEventKind.Updated, 2ul), (DiscoveryEventKind.Removed, 1ul)],
            replayed);
        Assert.Equal(0.7, state[new InstanceId(2)].Load);
        Assert.False(await watch.HasEventWithinAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(1, log.Count(2305));
        Assert.Equal(1, log.Count(2306));
        Assert.Equal(0, log.Count(2307));
        await TestEtcd.EventuallyAsync(() => watcher.Health.Status == HealthStatus.Healthy, "the watcher reports healthy again");
    }

    [Fact(Timeout = 90_000)]
    public async Task A_watch_whose_revision_was_compacted_away_lists_again_and_passes_on_the_difference()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        await using var network = new TcpRelay(etcd.ClientPort);
        var log = new RecordingLogger();
        await using var watcher = TestEtcd.Provider(log, network.Url);
        using var admin = TestEtcd.Client(etcd.ClientUrl);
        await PutAsync(admin, 1);
        await PutAsync(admin, 2);
        await PutAsync(admin, 5);

        await using var watch = new WatchReader(watcher, Endpoint);
        var state = await watch.ReadUntilAsync([], s => s.Count == 3, TestEtcd.Wait);

        // While the watcher is away: changes, then a compaction past all of them.
        network.Cut();
        await admin.DeleteAsync(Key(1));
        await PutAsync(admin, 3);
        await PutAsync(admin, 2, load: "0.9");
        await PutAsync(admin, 4);
        await admin.DeleteAsync(Key(4));
        var latest = await admin.PutAsync(new PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("/unrelated"), Value = Google.Protobuf.ByteString.CopyFromUtf8("x") });
        await admin.CompactAsync(new CompactionRequest { Revision = latest.Header.Revision, Physical = true });
        network.Restore();

        // The difference between what it had and what is there: 1 removed, 2 updated, 3 added; 4 came and went unseen.
        var before = watch.Seen.Count;
        state = await watch.ReadUntilAsync(state, s => s.ContainsKey(new InstanceId(3)) && !s.ContainsKey(new InstanceId(1)) && s[new InstanceId(2)].Load == 0.9, TestEtcd.Wait);
        var diff = watch.Seen.Skip(before).Select(e => (e.Kind, e.Instance.Id.Value)).ToList();
        Assert.Equal([(DiscoveryEventKind.Removed, 1ul), (DiscoveryEventKind.Updated, 2ul), (DiscoveryEventKind.Added, 3ul)], diff);
        Assert.Equal([2ul, 3ul, 5ul], state.Keys.Select(k => k.Value).Order());
        var compacted = Assert.Single(log.Messages(2307));
        Assert.Contains("1 added, 1 removed, 1 updated", compacted, StringComparison.Ordinal);

        // And it follows from the fresh listing's revision on.
        await PutAsync(admin, 6);
        var next = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Added, 6ul), (next.Kind, next.Instance.Id.Value));
        Assert.False(await watch.HasEventWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Cancelling_a_watch_ends_it_without_an_exception()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        await using var provider = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl);
        using var cancel = new CancellationTokenSource();
        var events = new List<DiscoveryEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var change in provider.WatchAsync(Endpoint, cancel.Token))
            {
                events.Add(change);
            }
        });

        await using var registered = await provider.RegisterAsync(TestEtcd.Instance(Endpoint, 8), TimeSpan.FromSeconds(10), CancellationToken.None);
        await TestEtcd.EventuallyAsync(() => events.Count == 1, "the watch delivers the registration");
        await cancel.CancelAsync();
        await reading.WaitAsync(TestEtcd.Wait);
        Assert.Equal(DiscoveryEventKind.Added, Assert.Single(events).Kind);
    }
}
