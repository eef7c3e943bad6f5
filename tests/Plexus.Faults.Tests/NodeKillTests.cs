using System.Diagnostics;
using Plexus.Faults.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Faults.Tests;

/// <summary>A node dies with SIGKILL: no drain, no goodbye to etcd; the kernel resets its connections.</summary>
public sealed class NodeKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FaultCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await FaultCluster.StartAsync();

    public async Task DisposeAsync()
    {
        // Null when the cluster failed to start; that failure is the test's.
        if (_cluster is not null)
        {
            output.WriteLine(_cluster.NodeEvents());
            await _cluster.DisposeAsync();
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_killed_node_fails_its_streams_typed_new_calls_go_to_the_other_node_at_once_and_its_instances_vanish_within_the_lease()
    {
        var victim = await _cluster.StartNodeAsync(_cluster.Lab.Hosts[0], "node-1");
        var survivor = await _cluster.StartNodeAsync(_cluster.Lab.Hosts[1], "node-2");
        var victimGenerate = await _cluster.InstanceOfAsync(victim, FaultCluster.Generate);
        var survivorGenerate = await _cluster.InstanceOfAsync(survivor, FaultCluster.Generate);
        await _cluster.WaitUntilServedAsync(await _cluster.InstanceOfAsync(victim, FaultCluster.Echo));
        await _cluster.WaitUntilServedAsync(await _cluster.InstanceOfAsync(survivor, FaultCluster.Echo));
        var client = _cluster.Client.Client;

        var doomed = new List<InFlightStream>();
        var unaffected = new List<InFlightStream>();
        for (var i = 0; i < 4; i++)
        {
            doomed.Add(await InFlightStream.OpenAsync(client, victimGenerate));
            unaffected.Add(await InFlightStream.OpenAsync(client, survivorGenerate));
        }

        var killedAt = Stopwatch.GetTimestamp();
        await victim.KillAsync();

        // The in-flight calls fail, typed, within the keep-alive timeout (the kernel's reset usually tells at once).
        foreach (var stream in doomed)
        {
            await stream.WaitEndedAsync(FaultCluster.KeepAliveTimeout + FaultCluster.Slack);
            var error = Assert.IsType<PlexusException>(stream.Error);
            Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
            Assert.False(error.BeforeFirstByte, "a stream that had delivered messages failed as if nothing had arrived");
            output.WriteLine($"in-flight stream on the killed node: {error.Code} after {Stopwatch.GetElapsedTime(killedAt, stream.EndedAt).TotalMilliseconds:F0} ms, {stream.Messages + 1} messages");
        }

        // New calls go to the other node at once: none fails, none waits for a timeout.
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var reply = await client.CallUnaryAsync(FaultCluster.Echo, "after the kill"u8.ToArray(), new CallOptions(Timeout: TimeSpan.FromSeconds(10)));
            Assert.Equal("after the kill"u8.ToArray(), reply);
            var took = Stopwatch.GetElapsedTime(started);
            slowest = took > slowest ? took : slowest;
        }

        output.WriteLine($"20 calls after the kill: all answered, the slowest in {slowest.TotalMilliseconds:F0} ms");
        Assert.True(slowest < FaultCluster.Slack, $"a call after the kill took {slowest.TotalMilliseconds:F0} ms");

        // The other node's streams never noticed.
        var before = unaffected.Select(s => s.Messages).ToArray();
        await Task.Delay(500);
        for (var i = 0; i < unaffected.Count; i++)
        {
            Assert.False(unaffected[i].HasEnded, $"a stream on the surviving node ended: {unaffected[i].Error}");
            Assert.True(unaffected[i].Messages > before[i], "a stream on the surviving node stopped delivering");
            await unaffected[i].StopAsync();
        }

        // Nobody told etcd: the killed node's instances go when its lease runs out, and only they go.
        await FaultCluster.EventuallyAsync(
            async () => (await _cluster.InstancesAsync()).Of(victim.NodeId).Count == 0,
            "the killed node's instances are gone from etcd",
            FaultCluster.LeaseTtl + FaultCluster.Slack);
        output.WriteLine($"the killed node's instances vanished {Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds:F0} ms after the kill (lease TTL {FaultCluster.LeaseTtl.TotalSeconds} s)");
        Assert.Equal(3, (await _cluster.InstancesAsync()).Of(survivor.NodeId).Count);
    }
}
