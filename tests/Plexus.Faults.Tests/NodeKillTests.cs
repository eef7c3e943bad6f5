using System.Diagnostics;
using Plexus.Faults.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Faults.Tests;

/// <summary>A node dies with SIGKILL: no drain, no goodbye to etcd; the kernel resets its connections.</summary>
public sealed class NodeKillTests(ITestOutputHelper output) : FaultClusterTest(output)
{
    [Fact(Timeout = 180_000)]
    public async Task A_killed_node_fails_its_streams_typed_new_calls_go_to_the_other_node_at_once_and_its_instances_vanish_within_the_lease()
    {
        var victim = await Cluster.StartNodeAsync(Cluster.Lab.Hosts[0], "node-1");
        var survivor = await Cluster.StartNodeAsync(Cluster.Lab.Hosts[1], "node-2");
        var victimGenerate = await Cluster.InstanceOfAsync(victim, FaultCluster.Generate);
        var survivorGenerate = await Cluster.InstanceOfAsync(survivor, FaultCluster.Generate);
        await Cluster.WaitUntilServedAsync(await Cluster.InstanceOfAsync(victim, FaultCluster.Echo));
        await Cluster.WaitUntilServedAsync(await Cluster.InstanceOfAsync(survivor, FaultCluster.Echo));
        var client = Cluster.Client.Client;

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
            Output.WriteLine($"in-flight stream on the killed node: {error.Code} after {Stopwatch.GetElapsedTime(killedAt, stream.EndedAt).TotalMilliseconds:F0} ms, {stream.Messages + 1} messages");
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

        Output.WriteLine($"20 calls after the kill: all answered, the slowest in {slowest.TotalMilliseconds:F0} ms");
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
            async () => (await Cluster.InstancesAsync()).Of(victim.NodeId).Count == 0,
            "the killed node's instances are gone from etcd",
            FaultCluster.LeaseTtl + FaultCluster.Slack);
        Output.WriteLine($"the killed node's instances vanished {Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds:F0} ms after the kill (lease TTL {FaultCluster.LeaseTtl.TotalSeconds} s)");
        Assert.Equal(3, (await Cluster.InstancesAsync()).Of(survivor.NodeId).Count);
    }
}
