using System.Diagnostics;
using Plexus.Faults.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Faults.Tests;

/// <summary>
/// A bounded soak: steady mixed traffic (unary calls and streams) from the in-process client to three nodes while
/// nodes are killed with SIGKILL and started again at random, never all at once.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output) : FaultClusterTest(output)
{
    /// <summary>How long the traffic and the kills go on.</summary>
    private static readonly TimeSpan Duration = TimeSpan.FromMinutes(2);

    /// <summary>Concurrent callers, each making one call after another.</summary>
    private const int Callers = 6;

    /// <summary>Every call's deadline.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long before a call a node must have been up to count as one the call could have been sent to.</summary>
    private static readonly TimeSpan WatchGrace = TimeSpan.FromSeconds(3);

    [Fact(Timeout = 420_000)]
    public async Task Under_random_kills_and_restarts_every_call_succeeds_or_fails_typed_none_fails_unretried_before_its_first_byte_and_none_hangs()
    {
        var uptime = new NodeUptime();
        foreach (var host in Cluster.Lab.Hosts)
        {
            var node = await Cluster.StartNodeAsync(host, $"node-{host.Index}");
            await Cluster.WaitUntilServedAsync(await Cluster.InstanceOfAsync(node, FaultCluster.Echo));
            uptime.Up(node.NodeId);
        }

        var client = Cluster.Client.Client;
        using var stop = new CancellationTokenSource();
        var outcomes = new List<CallOutcome>();
        var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var payload = new byte[64];
            while (!stop.IsCancellationRequested)
            {
                random.NextBytes(payload);
                var outcome = random.Next(2) == 0
                    ? await Traffic.UnaryAsync(client, payload, CallTimeout)
                    : await Traffic.StreamAsync(client, tokens: random.Next(1, 8), CallTimeout);
                lock (outcomes)
                {
                    outcomes.Add(outcome);
                }

                // Steady, not flat out: the two cores also run three etcd members and three nodes.
                await Task.Delay(random.Next(5, 30));
            }
        })).ToArray();

        // The chaos: every few seconds kill a node (while at least two serve) or start a killed one again.
        int kills, restarts;
        try
        {
            (kills, restarts) = await ChaosAsync(uptime);
        }
        finally
        {
            // Also when the chaos fails: callers left running would go on calling through the cluster's teardown.
            await stop.CancelAsync();
        }

        var drained = Task.WhenAll(callers);
        Assert.True(await Task.WhenAny(drained, Task.Delay(CallTimeout + Traffic.HangAfter + FaultCluster.Slack)) == drained, "the callers did not stop: a call hangs outside its deadline");
        await drained;

        List<CallOutcome> all;
        lock (outcomes)
        {
            all = [.. outcomes];
        }

        var failed = all.Where(o => !o.Succeeded).ToList();
        Output.WriteLine($"{Duration.TotalSeconds:F0} s, {kills} kills, {restarts} restarts: {all.Count} calls ({all.Count(o => !o.Stream)} unary, {all.Count(o => o.Stream)} streams), {all.Count - failed.Count} succeeded, {failed.Count} failed, slowest {all.Max(o => o.Took).TotalMilliseconds:F0} ms");
        foreach (var group in failed.GroupBy(o => (o.Stream, Code: o.Error?.Code, Before: o.FailedBeforeFirstByte, o.Hung, Untyped: o.Untyped?.GetType().Name)))
        {
            Output.WriteLine($"  {group.Count(),5} x {group.First()}");
        }

        Assert.True(kills >= 5 && restarts >= 5, $"the soak killed {kills} and restarted {restarts} nodes; it should have done more of both");
        Assert.DoesNotContain(all, o => o.Hung);
        Assert.DoesNotContain(all, o => o.Untyped is not null);

        // Before the first byte, a failure is safe to retry, and the client must have retried it elsewhere while another
        // node served: such a failure while a node was up throughout the call is a retry that did not happen.
        var unretried = failed
            .Where(o => o.FailedBeforeFirstByte)
            .Select(o => (Outcome: o, UpNode: uptime.UpThroughout(o.StartedAt, o.StartedAt + (long)(o.Took.TotalSeconds * Stopwatch.Frequency), WatchGrace)))
            .Where(x => x.UpNode is not null)
            .ToList();
        Assert.True(unretried.Count == 0, $"{unretried.Count} calls failed before their first byte while another node served throughout, e.g. {unretried.FirstOrDefault().Outcome} ({unretried.FirstOrDefault().UpNode} was up)");

        // Only calls a kill caught in flight may fail: nearly all succeed.
        Assert.True(failed.Count <= all.Count / 20, $"{failed.Count} of {all.Count} calls failed");

        // Afterwards: every node serves again, and etcd holds exactly their instances, none left of a killed run.
        foreach (var node in Cluster.Nodes.Where(n => !n.IsRunning))
        {
            await node.StartAsync();
        }

        await FaultCluster.EventuallyAsync(
            async () => (await Cluster.InstancesAsync()).Count == 3 * Cluster.Nodes.Count,
            "etcd holds the instances of the running nodes only",
            FaultCluster.LeaseTtl + FaultCluster.Slack);
    }

    private async Task<(int Kills, int Restarts)> ChaosAsync(NodeUptime uptime)
    {
        var chaos = new Random();
        var kills = 0;
        var restarts = 0;
        var began = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(began) < Duration)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(chaos.Next(2000, 5000)));
            foreach (var crashed in Cluster.Nodes.Where(n => n.ExitedUnexpectedly))
            {
                // Exit code 0 after a drain means SIGTERM or SIGINT from outside the test (nothing here sends either).
                Assert.Fail($"{crashed.NodeId} (pid {crashed.ProcessId}) exited on its own with code {crashed.ExitCode}; its output:\n{crashed.CurrentOutput}");
            }

            var up = Cluster.Nodes.Where(n => n.IsRunning).ToList();
            var down = Cluster.Nodes.Where(n => !n.IsRunning).ToList();
            if (down.Count > 0 && (up.Count < 2 || chaos.Next(2) == 0))
            {
                var node = down[chaos.Next(down.Count)];
                await node.StartAsync();
                uptime.Up(node.NodeId);
                restarts++;
                Output.WriteLine($"{Stopwatch.GetElapsedTime(began).TotalSeconds,6:F1} s: restarted {node.NodeId} (pid {node.ProcessId})");
            }
            else
            {
                var node = up[chaos.Next(up.Count)];
                uptime.Down(node.NodeId);
                await node.KillAsync();
                kills++;
                Output.WriteLine($"{Stopwatch.GetElapsedTime(began).TotalSeconds,6:F1} s: killed {node.NodeId} (pid {node.ProcessId})");
            }
        }

        return (kills, restarts);
    }
}
