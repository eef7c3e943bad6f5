using System.Diagnostics;
using Etcdserverpb;
using Plexus.Discovery.Etcd.Tests.Support;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>The node's lease: it expires when renewals stop, and a lost lease is noticed and everything registered again.</summary>
public sealed class LeaseTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "leased");

    [Fact(Timeout = 90_000)]
    public async Task Instances_vanish_after_the_ttl_when_renewals_stop_and_return_under_a_new_lease_when_etcd_is_reachable_again()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        await using var network = new TcpRelay(etcd.ClientPort);
        var nodeLog = new RecordingLogger();
        await using var node = TestEtcd.Provider(nodeLog, network.Url);
        await using var observer = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl);

        await using var registered = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var watch = new WatchReader(observer, Endpoint);
        Assert.Equal(DiscoveryEventKind.Added, (await watch.NextAsync(TestEtcd.Wait)).Kind);
        var lease = node.Session.LeaseId;

        // The node can no longer renew: etcd drops its instance once the 2 s lease runs out, not before.
        var cut = Stopwatch.StartNew();
        network.Cut();
        var removed = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Removed, 1ul), (removed.Kind, removed.Instance.Id.Value));
        Assert.True(cut.Elapsed > TimeSpan.FromSeconds(1), $"removed {cut.Elapsed} after the cut, before the lease could have expired");
        await TestEtcd.EventuallyAsync(() => node.Health.Status == HealthStatus.Degraded, "the node reports discovery degraded");
        Assert.Contains("registrations are not published", node.Health.Description, StringComparison.Ordinal);
        Assert.Equal(1, nodeLog.Count(2301));

        // Back on the network: the node finds its lease gone and registers everything again under a new one.
        network.Restore();
        var back = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Added, 1ul), (back.Kind, back.Instance.Id.Value));
        await TestEtcd.EventuallyAsync(() => node.Health.Status == HealthStatus.Healthy, "the node reports discovery healthy again");
        Assert.NotEqual(lease, node.Session.LeaseId);
        Assert.Equal(1, nodeLog.Count(2303));
        Assert.Contains("raise Plexus:Discovery:Etcd:LeaseTtl", nodeLog.Messages(2303)[0], StringComparison.Ordinal);
        Assert.Equal(1, nodeLog.Count(2302));
        Assert.Equal(1, nodeLog.Count(2301));
        await registered.RenewAsync(CancellationToken.None);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_lease_revoked_from_outside_is_noticed_logged_once_and_everything_registered_again()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        var nodeLog = new RecordingLogger();
        await using var node = TestEtcd.Provider(nodeLog, etcd.ClientUrl);
        await using var observer = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl);
        using var admin = TestEtcd.Client(etcd.ClientUrl);

        await using var one = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var two = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 2, load: "0.3"), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var watch = new WatchReader(observer, Endpoint);
        var state = await watch.ReadUntilAsync([], s => s.Count == 2, TestEtcd.Wait);
        var lease = node.Session.LeaseId;

        await admin.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease });

        // Watchers see both go and come back; the node's view of its own registrations never changed.
        state = await watch.ReadUntilAsync(state, s => s.Count == 0, TestEtcd.Wait);
        state = await watch.ReadUntilAsync(state, s => s.Count == 2, TestEtcd.Wait);
        Assert.Equal(0.3, state[new InstanceId(2)].Load);
        var renewed = node.Session.LeaseId;
        Assert.NotEqual(lease, renewed);
        Assert.Equal(renewed, await TestEtcd.LeaseOfAsync(admin, $"/plexus-test/ns/comp/leased/{new InstanceId(1)}"));
        Assert.Equal(renewed, await TestEtcd.LeaseOfAsync(admin, $"/plexus-test/ns/comp/leased/{new InstanceId(2)}"));
        Assert.Equal(1, nodeLog.Count(2303));
        Assert.Contains($"{lease:x}", nodeLog.Messages(2303)[0], StringComparison.Ordinal);
        Assert.Equal(0, nodeLog.Count(2301));
        await one.RenewAsync(CancellationToken.None);
        await two.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.4" }, CancellationToken.None);
        var updated = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Updated, 0.4), (updated.Kind, updated.Instance.Load));
    }

    [Fact(Timeout = 60_000)]
    public async Task Disposing_the_provider_revokes_its_lease_so_its_instances_leave_at_once()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        var nodeLog = new RecordingLogger();
        var node = TestEtcd.Provider(nodeLog, etcd.ClientUrl, o => o.LeaseTtl = TimeSpan.FromSeconds(60));
        await using var observer = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl);
        _ = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 7), TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Single(await observer.ListAsync(Endpoint, CancellationToken.None));

        await node.DisposeAsync();

        Assert.Empty(await observer.ListAsync(Endpoint, CancellationToken.None));
        Assert.Equal(1, nodeLog.Count(2312));
    }
}
