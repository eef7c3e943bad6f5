using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Hosting.Discovery;

namespace Plexus.Host.Tests.Discovery;

/// <summary>The file provider across real processes: two agents register, one crashes, one stops cleanly.</summary>
public sealed class FileDiscoveryMultiProcessTests : IDisposable
{
    private static readonly EndpointAddress Endpoint = new("plexus-test", "agents", "serve");
    private static readonly TimeSpan AgentTtl = TimeSpan.FromSeconds(2);

    // Cold start of a .NET process on a busy two-core machine can take a while; this bounds it, it does not time it.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _directory = new();
    private readonly List<DiscoveryAgentProcess> _agents = [];

    public void Dispose()
    {
        foreach (var agent in _agents)
        {
            agent.Dispose();
        }

        _directory.Dispose();
    }

    [Fact]
    public async Task Watcher_sees_agents_arrive_a_killed_one_expire_and_a_stopped_one_leave()
    {
        var provider = FileDiscoveryProviderTests.CreateProvider(_directory.Path, NullLogger<FileDiscoveryProvider>.Instance);
        await using var watch = new WatchPump(provider, Endpoint);

        var crashId = new InstanceId(0xc0ffee);
        var cleanId = new InstanceId(0xc1ea4);
        var crashing = Start(crashId);
        var clean = Start(cleanId);
        await Task.WhenAll(crashing.WaitReadyAsync(StartTimeout), clean.WaitReadyAsync(StartTimeout));

        var arrivals = await watch.NextAsync(2);
        Assert.All(arrivals, e => Assert.Equal(DiscoveryEventKind.Added, e.Kind));
        Assert.Equal([cleanId, crashId], arrivals.Select(e => e.Instance.Id).OrderBy(i => i.Value));
        Assert.All(arrivals, e => Assert.Equal("tcp", e.Instance.Transport));
        Assert.Equal(2, arrivals.Select(e => e.Instance.Metadata[InstanceMetadataKeys.Node]).Distinct().Count());

        // A crash: no cleanup, so the file stays behind until its time to live runs out.
        var crashFile = DiscoveryFileLayout.InstanceFile(_directory.Path, Endpoint, crashId);
        crashing.Kill();
        Assert.True(File.Exists(crashFile));

        var removed = await watch.NextAsync(AgentTtl + TimeSpan.FromSeconds(15));
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Removed, arrivals.Single(e => e.Instance.Id == crashId).Instance), removed);

        // The survivor has outlived its own time to live by now only because it keeps renewing.
        Assert.Equal([cleanId], (await provider.ListAsync(Endpoint, CancellationToken.None)).Select(i => i.Id));

        // A graceful stop removes the file itself before exiting, long before any expiry.
        var cleanFile = DiscoveryFileLayout.InstanceFile(_directory.Path, Endpoint, cleanId);
        await clean.StopAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, clean.ExitCode);
        Assert.Contains("stopped", clean.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(cleanFile));

        var left = await watch.NextAsync();
        Assert.Equal(DiscoveryEventKind.Removed, left.Kind);
        Assert.Equal(cleanId, left.Instance.Id);
        Assert.Empty(await provider.ListAsync(Endpoint, CancellationToken.None));
    }

    [Fact]
    public async Task A_watcher_started_after_the_agents_gets_them_in_its_snapshot()
    {
        var first = Start(new InstanceId(1));
        var second = Start(new InstanceId(2));
        await Task.WhenAll(first.WaitReadyAsync(StartTimeout), second.WaitReadyAsync(StartTimeout));

        var provider = FileDiscoveryProviderTests.CreateProvider(_directory.Path, NullLogger<FileDiscoveryProvider>.Instance);
        await using var watch = new WatchPump(provider, Endpoint);

        var snapshot = await watch.NextAsync(2);
        Assert.All(snapshot, e => Assert.Equal(DiscoveryEventKind.Added, e.Kind));
        Assert.Equal([1UL, 2UL], snapshot.Select(e => e.Instance.Id.Value).Order());
    }

    private DiscoveryAgentProcess Start(InstanceId id)
    {
        var agent = DiscoveryAgentProcess.Start(_directory.Path, Endpoint, id, AgentTtl);
        _agents.Add(agent);
        return agent;
    }
}
