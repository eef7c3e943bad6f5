using System.Diagnostics;
using System.Net;
using Plexus.Faults.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Faults.Tests;

/// <summary>
/// A node reachable only through the tests' <see cref="FaultRelay"/> (it advertises the relay's address): delay, loss
/// and a black hole between the client and it. Every call has a deadline, and ends by it (plus slack) one way or
/// another, with a typed error if not with its answer.
/// </summary>
public sealed class RelayFaultTests(ITestOutputHelper output) : FaultClusterTest(output)
{
    [Fact(Timeout = 180_000)]
    public async Task Through_delay_loss_and_a_black_hole_every_call_ends_by_its_deadline_with_its_answer_or_a_typed_error()
    {
        var host = Cluster.Lab.Hosts[0];
        var relay = Cluster.Own(new FaultRelay(Cluster.Lab.Gateway, new IPEndPoint(host.Address, 7400)));
        var node = await Cluster.StartNodeAsync(host, "node-1", $"--Plexus:Transports:Tcp:AdvertisedAddress={relay.EndPoint}");
        await Cluster.WaitUntilServedAsync(await Cluster.InstanceOfAsync(node, FaultCluster.Echo));
        Assert.True(relay.Connections > 0, "the client did not go through the relay");
        var client = Cluster.Client.Client;

        // Delay the call survives: the answer comes, later by the relay's delay each way.
        relay.Delay = TimeSpan.FromMilliseconds(150);
        var slow = await Traffic.UnaryAsync(client, "slow"u8.ToArray(), TimeSpan.FromSeconds(5));
        Output.WriteLine($"150 ms each way: {slow}");
        Assert.True(slow.Succeeded, slow.ToString());
        Assert.True(slow.Took >= TimeSpan.FromMilliseconds(300), $"the relay's delay did not apply: {slow}");

        // Delay past the deadline: a unary call whose request cannot even arrive in time ends with Timeout at its
        // deadline; a stream whose tokens trail behind ends at its deadline too, typed.
        relay.Delay = TimeSpan.FromMilliseconds(600);
        var late = await Traffic.UnaryAsync(client, "late"u8.ToArray(), TimeSpan.FromMilliseconds(400));
        Output.WriteLine($"600 ms each way, 400 ms deadline: {late}");
        Assert.Equal(PlexusErrorCode.Timeout, Assert.IsType<PlexusException>(late.Error).Code);
        Assert.True(late.Took < TimeSpan.FromMilliseconds(400) + FaultCluster.Slack, late.ToString());
        relay.Delay = TimeSpan.FromMilliseconds(300);
        var trailing = await Traffic.StreamAsync(client, tokens: 100, TimeSpan.FromSeconds(1.5));
        Output.WriteLine($"300 ms per chunk, a 100-token stream, 1.5 s deadline: {trailing}");
        Assert.NotNull(trailing.Error);
        Assert.True(trailing.Took < TimeSpan.FromSeconds(1.5) + FaultCluster.Slack, trailing.ToString());

        // Loss: connections die under calls at random. Every call ends by its deadline, answered or typed.
        relay.Delay = TimeSpan.Zero;
        relay.LossRate = 0.05;
        var lossy = new List<CallOutcome>();
        for (var i = 0; i < 60; i++)
        {
            lossy.Add(i % 2 == 0
                ? await Traffic.UnaryAsync(client, "lossy"u8.ToArray(), TimeSpan.FromSeconds(3))
                : await Traffic.StreamAsync(client, tokens: 5, TimeSpan.FromSeconds(3)));
        }

        relay.LossRate = 0;
        Report("5 % of chunks lost", lossy);
        Assert.True(relay.Dropped > 0, "the relay lost nothing: the loss was not exercised");
        Assert.All(lossy, o => Assert.True(o.Succeeded || o.Error is not null, o.ToString()));
        Assert.All(lossy, o => Assert.True(o.Took < TimeSpan.FromSeconds(3) + FaultCluster.Slack, o.ToString()));
        Assert.Contains(lossy, o => o.Succeeded);

        // A black hole: nothing forwarded, nothing closed. Calls end at their deadline or when keep-alive gives up on
        // the silent connection, whichever comes first, typed; none waits for anything longer.
        relay.BlackHole = true;
        var swallowed = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => i % 2 == 0
            ? Traffic.UnaryAsync(client, "void"u8.ToArray(), TimeSpan.FromSeconds(2))
            : Traffic.StreamAsync(client, tokens: 5, TimeSpan.FromSeconds(2))));
        Report("black hole, 2 s deadline", swallowed);
        Assert.All(swallowed, o => Assert.True(o.Error is { Code: PlexusErrorCode.Timeout or PlexusErrorCode.Unavailable }, o.ToString()));
        Assert.All(swallowed, o => Assert.True(o.Took < TimeSpan.FromSeconds(2) + FaultCluster.Slack, o.ToString()));

        // The network heals: the node is called again, through a new connection.
        relay.BlackHole = false;
        var healedAt = Stopwatch.GetTimestamp();
        await FaultCluster.EventuallyAsync(
            async () => (await Traffic.UnaryAsync(client, "healed"u8.ToArray(), TimeSpan.FromSeconds(2))).Succeeded,
            "a call succeeds once the relay forwards again",
            TimeSpan.FromSeconds(30));
        Output.WriteLine($"answered again {Stopwatch.GetElapsedTime(healedAt).TotalMilliseconds:F0} ms after the black hole ended");
    }

    private void Report(string what, IReadOnlyCollection<CallOutcome> outcomes)
    {
        Output.WriteLine($"{what}: {outcomes.Count(o => o.Succeeded)} of {outcomes.Count} answered, slowest {outcomes.Max(o => o.Took).TotalMilliseconds:F0} ms");
        foreach (var failed in outcomes.Where(o => !o.Succeeded))
        {
            Output.WriteLine($"  {failed}");
        }
    }
}
