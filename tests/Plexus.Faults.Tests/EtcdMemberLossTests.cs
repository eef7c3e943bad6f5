using System.Diagnostics;
using Plexus.Faults.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Faults.Tests;

/// <summary>The etcd member that leads the cluster dies with SIGKILL; two of three keep the quorum.</summary>
public sealed class EtcdMemberLossTests(ITestOutputHelper output) : FaultClusterTest(output)
{
    [Fact(Timeout = 180_000)]
    public async Task Discovery_carries_on_when_the_etcd_leader_is_killed_leases_survive_calls_keep_working_and_a_new_node_is_found()
    {
        var first = await Cluster.StartNodeAsync(Cluster.Lab.Hosts[0], "node-1");
        var second = await Cluster.StartNodeAsync(Cluster.Lab.Hosts[1], "node-2");
        await Cluster.WaitUntilServedAsync(await Cluster.InstanceOfAsync(first, FaultCluster.Echo));
        await Cluster.WaitUntilServedAsync(await Cluster.InstanceOfAsync(second, FaultCluster.Echo));
        var client = Cluster.Client.Client;

        var leader = await Cluster.Etcd.LeaderAsync();
        var killedAt = Stopwatch.GetTimestamp();
        await leader.KillAsync();
        Output.WriteLine($"killed etcd leader {leader.Name} on {leader.Host}");

        // Through the election and well past two lease lifetimes, calls keep being answered: the client's view of
        // the instances does not depend on etcd answering this second.
        var calls = 0;
        while (Stopwatch.GetElapsedTime(killedAt) < (2 * FaultCluster.LeaseTtl) + FaultCluster.LeaderElection)
        {
            var reply = await client.CallUnaryAsync(FaultCluster.Echo, "leaderless"u8.ToArray(), new CallOptions(Timeout: TimeSpan.FromSeconds(5)));
            Assert.Equal("leaderless"u8.ToArray(), reply);
            calls++;
            await Task.Delay(100);
        }

        Output.WriteLine($"{calls} calls answered while etcd elected a new leader and after");
        var newLeader = await Cluster.Etcd.LeaderAsync();
        Assert.NotEqual(leader, newLeader);

        // Each node's renewals moved to the members left in time: no lease was lost, no instance left etcd.
        var instances = await Cluster.InstancesAsync();
        Assert.Equal(3, instances.Of(first.NodeId).Count);
        Assert.Equal(3, instances.Of(second.NodeId).Count);
        Assert.DoesNotContain("[2303]", first.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[2303]", second.Output, StringComparison.Ordinal);

        // A node started now registers through the two members left, and the client's watch, which may have been on
        // the dead member, finds it.
        var startedAt = Stopwatch.GetTimestamp();
        var late = await Cluster.StartNodeAsync(Cluster.Lab.Hosts[2], "node-3");
        var lateEcho = await Cluster.InstanceOfAsync(late, FaultCluster.Echo);
        await Cluster.WaitUntilServedAsync(lateEcho);
        Output.WriteLine($"a node started after the kill was called {Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds:F0} ms after it was launched");
        Assert.Equal(3, (await Cluster.InstancesAsync()).Of(late.NodeId).Count);

        // And calls spread over all three nodes again.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("three"u8.ToArray(), await client.CallUnaryAsync(FaultCluster.Echo, "three"u8.ToArray(), new CallOptions(Timeout: TimeSpan.FromSeconds(5))));
        }
    }
}
