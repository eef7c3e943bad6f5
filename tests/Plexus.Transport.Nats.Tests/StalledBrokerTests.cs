using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// nats-server is the NATS transport's peer. When it stops reading while it keeps sending (requests the node must
/// refuse, each refusal a reply no credit bounds), the node stops reading too once twice MaxPendingBytes waits to be
/// written, drops the link after its unanswered pings, and the outbox drains on the next link.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class StalledBrokerTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 60_000)]
    public async Task BrokerThatStopsReading_GetsNoMoreThanTwiceMaxPendingBytesOfReplies_AndIsDroppedByTheKeepAlive()
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
        await using var server = new NatsServer(options, ArrayPool<byte>.Shared, NullLogger.Instance);
        var disconnected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Connection.Disconnected += reason => disconnected.TrySetResult(reason);
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step);
        var endpoint = new EndpointAddress("nats", "tests", "refusing");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new EchoHandler());
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var serverId = NatsAddress.Parse(server.Address).ServerId;
        broker.Flood(NatsAddress.RequestSubscription(options.SubjectPrefix, serverId), NatsAddress.RequestSubject(options.SubjectPrefix, endpoint, instance, serverId));
        long worstPending = 0;
        long worstGrowth = 0;
        var started = Stopwatch.StartNew();
        var nextMeasure = TimeSpan.Zero;
        while (!disconnected.Task.IsCompleted && started.Elapsed < Step)
        {
            worstPending = Math.Max(worstPending, server.Connection.PendingBytes);
            if (started.Elapsed >= nextMeasure)
            {
                worstGrowth = Math.Max(worstGrowth, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                nextMeasure = started.Elapsed + TimeSpan.FromMilliseconds(200);
            }

            await Task.Delay(5);
        }

        var reason = await disconnected.Task.WaitAsync(Step);
        output.WriteLine($"Flooded {broker.FloodedBytes / 1024} KiB; worst pending {worstPending / 1024} KiB; worst growth {worstGrowth / 1024} KiB; dropped after {started.Elapsed.TotalSeconds:F1} s: {reason}");

        // One refusal (a few hundred bytes) and a ping may land past the point where the reader stops.
        Assert.True(worstPending <= (2 * options.MaxPendingBytes) + (64 * 1024), $"{worstPending} bytes waited for a broker that does not read; the bound is twice {options.MaxPendingBytes}.");
        Assert.True(worstGrowth < 64 * MiB, $"Live memory grew by {worstGrowth / MiB} MiB while the broker did not read.");
        Assert.Contains("did not answer", reason, StringComparison.Ordinal);

        // The next link takes the backlog, and the node is connected again.
        var giveUp = Stopwatch.StartNew();
        while ((server.Connection.PendingBytes > 0 || server.Health.Status != HealthStatus.Healthy) && giveUp.Elapsed < Step)
        {
            await Task.Delay(20);
        }

        Assert.True(broker.Accepted >= 2, "The node did not reconnect.");
        Assert.Equal(0, server.Connection.PendingBytes);
        Assert.Equal(HealthStatus.Healthy, server.Health.Status);
    }
}
