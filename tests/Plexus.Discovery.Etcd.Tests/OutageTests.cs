using System.Diagnostics;
using Plexus.Discovery.Etcd.Tests.Support;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>etcd down when a node starts: the node goes on, says so, and registers once etcd answers.</summary>
public sealed class OutageTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "early");

    [Fact(Timeout = 90_000)]
    public async Task A_node_started_before_etcd_reports_the_problem_keeps_its_registrations_and_publishes_them_when_etcd_comes_up()
    {
        var port = EtcdProcess.FreePort();
        var log = new RecordingLogger();
        await using var node = TestEtcd.Provider(log, $"http://127.0.0.1:{port}");

        // A registration its caller gave up on (the token fired while it waited for etcd) is never published.
        using (var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.RegisterAsync(TestEtcd.Instance(Endpoint, 99), TimeSpan.FromSeconds(10), giveUp.Token).AsTask());
        }

        // Registering does not wait for etcd: a node starts whether or not its discovery answers.
        var started = Stopwatch.StartNew();
        await using var registered = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), $"RegisterAsync took {started.Elapsed}");
        await TestEtcd.EventuallyAsync(() => node.Health.Status == HealthStatus.Degraded, "the node reports discovery degraded");
        Assert.Contains($"127.0.0.1:{port}", node.Health.Description, StringComparison.Ordinal);
        Assert.Contains("Plexus:Discovery:Etcd:Endpoints", node.Health.Description, StringComparison.Ordinal);
        await registered.RenewAsync(CancellationToken.None);

        var listing = await Assert.ThrowsAsync<PlexusException>(() => node.ListAsync(Endpoint, CancellationToken.None).AsTask());
        Assert.Equal(PlexusErrorCode.Unavailable, listing.Code);

        // Metadata changed meanwhile is not published now, says so, and is kept for later.
        var update = await Assert.ThrowsAsync<PlexusException>(() => registered.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.6" }, CancellationToken.None).AsTask());
        Assert.Contains("kept and written when etcd answers", update.Message, StringComparison.Ordinal);
        Assert.Equal(0.6, registered.Instance.Load);

        // etcd comes up where the node expects it, a while later: the node publishes what it holds.
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using var etcd = EtcdProcess.Create("late", clientPort: port);
        etcd.Launch();
        await etcd.WaitServingAsync();
        await using var observer = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl);
        await TestEtcd.EventuallyAsync(async () => (await observer.ListAsync(Endpoint, CancellationToken.None)).Count == 1, "the instance is published");
        var published = Assert.Single(await observer.ListAsync(Endpoint, CancellationToken.None));
        Assert.Equal((1ul, 0.6), (published.Id.Value, published.Load));
        await TestEtcd.EventuallyAsync(() => node.Health.Status == HealthStatus.Healthy, "the node reports discovery healthy");
        Assert.Equal(1, log.Count(2301));
        Assert.Equal(1, log.Count(2302));
        Assert.Equal(0, log.Count(2303));
    }

    [Fact(Timeout = 90_000)]
    public async Task A_watch_started_before_etcd_delivers_the_instances_once_etcd_answers()
    {
        var port = EtcdProcess.FreePort();
        var log = new RecordingLogger();
        await using var client = TestEtcd.Provider(log, $"http://127.0.0.1:{port}");
        await using var watch = new WatchReader(client, Endpoint);
        watch.KeepReading();
        await TestEtcd.EventuallyAsync(() => client.Health.Status == HealthStatus.Degraded, "the client reports its watch disconnected");

        await using var etcd = EtcdProcess.Create("late-watch", clientPort: port);
        etcd.Launch();
        await etcd.WaitServingAsync();
        await using var node = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl);
        await using var registered = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 4), TimeSpan.FromSeconds(10), CancellationToken.None);

        var added = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Added, 4ul), (added.Kind, added.Instance.Id.Value));
        Assert.Equal(HealthStatus.Healthy, client.Health.Status);
        Assert.Equal(1, log.Count(2305));
        Assert.Equal(1, log.Count(2306));
    }
}
