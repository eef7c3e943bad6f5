using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// nats-server is the NATS transport's peer. When it stops reading while it keeps sending (requests the node must
/// refuse, each refusal a reply no credit bounds), the node stops reading too once MaxPendingBytes waits to be written
/// (the read loop waits for room for each refusal), drops the link after its unanswered pings, and serves again on the
/// next link.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class StalledBrokerTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 60_000)]
    public async Task BrokerThatStopsReading_CostsTheNodeBoundedMemory_AndIsDroppedByTheKeepAlive()
    {
        await using var broker = new StalledNatsServer();
        var options = new NatsTransportOptions
        {
            Url = broker.Url.ToString(),
            MaxPendingBytes = MiB,
            PingInterval = TimeSpan.FromMilliseconds(500),
            MaxPingsOutstanding = 2,
            ReconnectWait = TimeSpan.FromMilliseconds(100),
            MaxReconnectWait = TimeSpan.FromMilliseconds(500),
        };
        await using var server = new NatsServer(options, ArrayPool<byte>.Shared, NullLoggerFactory.Instance);
        var disconnected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Link.Disconnected += reason => disconnected.TrySetResult(reason);
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step);
        var endpoint = new EndpointAddress("nats", "tests", "refusing");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new EchoHandler());
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        // Requests naming a stale instance: each is refused from its head, a reply the read loop must send.
        var serverId = NatsAddress.Parse(server.Address).ServerId;
        broker.Flood(NatsAddress.RequestSubscription(options.SubjectPrefix, serverId), NatsAddress.RequestSubject(options.SubjectPrefix, endpoint, InstanceId.NewId(), serverId));
        long worstGrowth = 0;
        var started = Stopwatch.StartNew();
        var nextMeasure = TimeSpan.Zero;
        while (!disconnected.Task.IsCompleted && started.Elapsed < Step)
        {
            if (started.Elapsed >= nextMeasure)
            {
                worstGrowth = Math.Max(worstGrowth, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                nextMeasure = started.Elapsed + TimeSpan.FromMilliseconds(200);
            }

            await Task.Delay(5);
        }

        var reason = await disconnected.Task.WaitAsync(Step);
        output.WriteLine($"Flooded {broker.FloodedBytes / 1024} KiB; worst growth {worstGrowth / 1024} KiB; dropped after {started.Elapsed.TotalSeconds:F1} s: {reason}");

        // The node read no more than its outbox let it answer: a few MiB of buffers, not the flood.
        Assert.True(worstGrowth < 32 * MiB, $"Live memory grew by {worstGrowth / MiB} MiB while the broker did not read.");
        Assert.True(broker.FloodedBytes < 64 * MiB, $"The node took {broker.FloodedBytes / MiB} MiB of requests it could not answer.");

        // The next link serves, and the node is connected again.
        var giveUp = Stopwatch.StartNew();
        while (server.Health.Status != HealthStatus.Healthy && giveUp.Elapsed < Step)
        {
            await Task.Delay(20);
        }

        Assert.True(broker.Accepted >= 2, "The node did not reconnect.");
        Assert.Equal(HealthStatus.Healthy, server.Health.Status);
    }
}
