using System.Diagnostics;
using Plexus.Faults.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Faults.Tests;

/// <summary>
/// A host cut off by taking its link down: no reset, no unreachable, just silence, for its node and for the etcd member
/// it also carries; then the link comes back and the same node process serves again.
/// </summary>
public sealed class LinkDownTests(ITestOutputHelper output) : FaultClusterTest(output)
{
    [Fact(Timeout = 180_000)]
    public async Task A_cut_off_host_fails_its_streams_typed_loses_its_instances_and_after_the_link_is_back_its_node_rejoins_and_serves_without_a_restart()
    {
        var survivor = await Cluster.StartNodeAsync(Cluster.Lab.Hosts[0], "node-1");
        var cutHost = Cluster.Lab.Hosts[2];
        var cut = await Cluster.StartNodeAsync(cutHost, "node-3");
        var cutGenerate = await Cluster.InstanceOfAsync(cut, FaultCluster.Generate);
        var cutEcho = await Cluster.InstanceOfAsync(cut, FaultCluster.Echo);
        await Cluster.WaitUntilServedAsync(cutEcho);
        await Cluster.WaitUntilServedAsync(await Cluster.InstanceOfAsync(survivor, FaultCluster.Echo));
        var client = Cluster.Client.Client;
        var pid = cut.ProcessId;

        var doomed = new List<InFlightStream>();
        for (var i = 0; i < 4; i++)
        {
            doomed.Add(await InFlightStream.OpenAsync(client, cutGenerate));
        }

        var cutAt = Stopwatch.GetTimestamp();
        cutHost.LinkDown();

        // Nothing tells the client; its keep-alive does, within its timeout.
        foreach (var stream in doomed)
        {
            await stream.WaitEndedAsync(FaultCluster.KeepAliveTimeout + FaultCluster.Slack);
            var error = Assert.IsType<PlexusException>(stream.Error);
            Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
            Output.WriteLine($"in-flight stream on the cut-off host: {error.Code} after {Stopwatch.GetElapsedTime(cutAt, stream.EndedAt).TotalMilliseconds:F0} ms, {stream.Messages + 1} messages");
        }

        // New calls are answered by the other node; none waits longer than one connect attempt at the silent host.
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var reply = await client.CallUnaryAsync(FaultCluster.Echo, "while cut off"u8.ToArray(), new CallOptions(Timeout: TimeSpan.FromSeconds(10)));
            Assert.Equal("while cut off"u8.ToArray(), reply);
            var took = Stopwatch.GetElapsedTime(started);
            slowest = took > slowest ? took : slowest;
        }

        Output.WriteLine($"20 calls while cut off: all answered, the slowest in {slowest.TotalMilliseconds:F0} ms");
        Assert.True(slowest < FaultCluster.ConnectTimeout + FaultCluster.Slack, $"a call while the host was cut off took {slowest.TotalMilliseconds:F0} ms");

        // The majority side of etcd lets the node's lease expire: its instances vanish for everyone else. When the
        // member cut off was etcd's leader, the others first elect a new one, which restarts every lease's clock.
        var majority = string.Join(',', Cluster.Etcd.Members.Where(m => m.Host != cutHost).Select(m => m.ClientUrl));
        await FaultCluster.EventuallyAsync(
            async () => (await Cluster.InstancesAsync(majority)).Of(cut.NodeId).Count == 0,
            "the cut-off node's instances are gone from etcd",
            FaultCluster.LeaseTtl + FaultCluster.LeaderElection + FaultCluster.Slack);
        var vanished = Stopwatch.GetElapsedTime(cutAt);
        Output.WriteLine($"the cut-off node's instances vanished {vanished.TotalMilliseconds:F0} ms after the cut (lease TTL {FaultCluster.LeaseTtl.TotalSeconds} s)");

        // The node on the majority side keeps its lease, though one member it may have been renewing through went
        // silent with the host.
        var left = await Cluster.InstancesAsync(majority);
        Assert.True(left.Of(survivor.NodeId).Count == 3, $"the other node lost instances: {left.Describe()}");
        Assert.DoesNotContain("[2303]", survivor.Output, StringComparison.Ordinal);

        // Back on the network, the same process finds its lease gone, takes a new one and registers again (2303).
        var restoredAt = Stopwatch.GetTimestamp();
        cutHost.LinkUp();
        await FaultCluster.EventuallyAsync(
            async () => (await Cluster.InstancesAsync(majority)).Of(cut.NodeId).Count == 3,
            "the node registers again once its host is back",
            TimeSpan.FromSeconds(30));
        Output.WriteLine($"registered again {Stopwatch.GetElapsedTime(restoredAt).TotalMilliseconds:F0} ms after the link came back");
        Assert.Contains("[2303]", cut.Output, StringComparison.Ordinal);
        Assert.True(cut.IsRunning);
        Assert.Equal(pid, cut.ProcessId);
        Assert.Equal(1, cut.Starts);

        // And it serves: the client sees it again and a call pinned to it, and a stream on it, go through.
        await Cluster.WaitUntilServedAsync(cutEcho);
        var again = await OpenEventuallyAsync(client, cutGenerate);
        await Task.Delay(300);
        Assert.False(again.HasEnded, $"a stream on the rejoined node ended: {again.Error}");
        Assert.True(again.Messages > 0, "a stream on the rejoined node delivers nothing after its first message");
        await again.StopAsync();
        Output.WriteLine($"serving again {Stopwatch.GetElapsedTime(restoredAt).TotalMilliseconds:F0} ms after the link came back");
    }

    /// <summary>Opens a stream on <paramref name="instance"/> once the client's watch of its endpoint has it again (each
    /// endpoint has its own watch, which resumes on its own after the outage).</summary>
    private static async Task<InFlightStream> OpenEventuallyAsync(IPlexusClient client, InstanceId instance)
    {
        InFlightStream? opened = null;
        await FaultCluster.EventuallyAsync(
            async () =>
            {
                try
                {
                    opened = await InFlightStream.OpenAsync(client, instance);
                    return true;
                }
                catch (PlexusException)
                {
                    return false;
                }
            },
            $"a stream on instance {instance} opens",
            TimeSpan.FromSeconds(30));
        return opened!;
    }
}
