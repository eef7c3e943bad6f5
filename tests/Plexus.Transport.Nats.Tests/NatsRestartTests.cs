using System.Buffers;

namespace Plexus.Transport.Nats.Tests;

/// <summary>nats-server killed and restarted on the same port while a client and a server use it.</summary>
public sealed class NatsRestartTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 90_000)]
    public async Task ServerRestart_FailsInFlightRequests_ThenNewRequestsSucceed()
    {
        // The transport's meter is process-wide, so this only asserts that reconnects were counted, not how many.
        long reconnects = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Plexus.Transport.Nats" && instrument.Name == "plexus.transport.reconnects")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref reconnects, value));
        listener.Start();

        await using var nats = await NatsServerProcess.StartAsync();
        var options = new NatsTransportOptions
        {
            Url = nats.Url.ToString(),
            KeepAliveInterval = TimeSpan.FromMilliseconds(500),
            ReconnectWait = TimeSpan.FromMilliseconds(100),
            MaxReconnectWait = TimeSpan.FromMilliseconds(500),
        };
        await using var harness = await TransportHarness.StartAsync(options);
        var waiting = new WaitingHandler();
        var endpoint = new EndpointAddress("tests", "restart", "wait");
        var echo = new EndpointAddress("tests", "restart", "echo");
        var instance = InstanceId.NewId();
        harness.Server.Register(endpoint, instance, waiting);
        harness.Server.Register(echo, instance, new EchoHandler());
        Assert.Equal("before"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(echo, instance, "before"u8.ToArray()))));

        var stream = await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        await using (stream)
        {
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));

            await nats.KillAsync();

            // In flight: a typed error, promptly, not a hang.
            var error = await Assert.ThrowsAsync<PlexusException>(() => stream.MoveNextAsync().AsTask().WaitAsync(Step));
            Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
            await waiting.Aborted.Task.WaitAsync(Step);
        }

        Assert.Equal(HealthStatus.Degraded, harness.Client.Health.Status);
        await nats.RestartAsync();
        await WaitUntilAsync(() => harness.Client.Health.Status == HealthStatus.Healthy && harness.Server.Health.Status == HealthStatus.Healthy);

        // The server resubscribed its endpoints and the client its inbox: requests work again.
        for (var i = 0; i < 10; i++)
        {
            var payload = new byte[1 + (i * 300_000)];
            payload[0] = (byte)i;
            Assert.Equal(payload, Assert.Single(await harness.CallAsync(TransportHarness.Request(echo, instance, payload))));
        }

        // Both the client's and the server's connection came back.
        Assert.True(Interlocked.Read(ref reconnects) >= 2, $"reconnects counted: {reconnects}");
    }

    [Fact(Timeout = 90_000)]
    public async Task WhileDisconnected_RequestsFailFastAndNothingWaits_ThenTheServersSubscriptionsAreRestored()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        var options = new NatsTransportOptions
        {
            Url = nats.Url.ToString(),
            KeepAliveInterval = TimeSpan.FromMilliseconds(500),
            ReconnectWait = TimeSpan.FromMilliseconds(100),
            MaxReconnectWait = TimeSpan.FromMilliseconds(300),
        };
        await using var harness = await TransportHarness.StartAsync(options);
        var server = (NatsServer)harness.Server;
        var echo = new EndpointAddress("tests", "down", "echo");
        var instance = InstanceId.NewId();
        harness.Server.Register(echo, instance, new EchoHandler());
        Assert.Equal("up"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(echo, instance, "up"u8.ToArray()))));

        await nats.KillAsync();
        await WaitUntilAsync(() => !server.Link.IsConnected && harness.Client.Health.Status == HealthStatus.Degraded);

        // Not buffered to wait out the outage: the caller hears at once that nothing was sent, and may go elsewhere.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PlexusException>(() => harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(echo, instance, "down"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"The request waited {started.Elapsed} for a connection that was down.");
        Assert.Equal(HealthStatus.Degraded, harness.Server.Health.Status);

        await nats.RestartAsync();
        await WaitUntilAsync(() => harness.Client.Health.Status == HealthStatus.Healthy && harness.Server.Health.Status == HealthStatus.Healthy);

        // The request wildcard, the control subject and the endpoint's queue subject are back without a restart.
        Assert.Equal("again"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(echo, instance, "again"u8.ToArray()))));
        await using var plain = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = nats.Url.ToString() });
        var reply = await plain.RequestAsync<byte[], byte[]>(NatsAddress.EndpointSubject(options.SubjectPrefix, echo), "plain"u8.ToArray()).AsTask().WaitAsync(Step);
        Assert.Equal("plain"u8.ToArray(), reply.Data);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientWhoseFirstConnectFailed_ConnectsOnALaterRequest_OnceNatsIsUp()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        var options = new NatsTransportOptions { Url = nats.Url.ToString(), ReconnectWait = TimeSpan.FromMilliseconds(100), ConnectTimeout = TimeSpan.FromSeconds(1) };
        await nats.KillAsync();
        var factory = new NatsTransportFactory(options, ArrayPool<byte>.Shared);
        await using var client = factory.CreateClient();
        var echo = new EndpointAddress("tests", "late", "echo");
        var instance = InstanceId.NewId();

        var down = await Assert.ThrowsAsync<PlexusException>(() => client.SendAsync(new Uri($"nats://127.0.0.1:{nats.Port}/plexus/0123456789abcdef"), TransportHarness.Request(echo, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step));
        Assert.Equal(PlexusErrorCode.Unavailable, down.Code);
        Assert.True(down.BeforeFirstByte);
        Assert.Equal(HealthStatus.Unhealthy, client.Health.Status);

        await nats.RestartAsync();
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step);
        server.Register(echo, instance, new EchoHandler());

        // A later request starts a new attempt; no restart of the node.
        List<byte[]>? reply = null;
        var giveUp = DateTime.UtcNow + Step;
        while (reply is null)
        {
            try
            {
                var stream = await client.SendAsync(server.Address, TransportHarness.Request(echo, instance, "late"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
                await using (stream)
                {
                    reply = [];
                    while (await stream.MoveNextAsync().AsTask().WaitAsync(Step))
                    {
                        reply.Add(stream.Current.ToArray());
                    }
                }
            }
            catch (PlexusException exception) when (exception.Code == PlexusErrorCode.Unavailable && DateTime.UtcNow < giveUp)
            {
                await Task.Delay(50);
            }
        }

        Assert.Equal("late"u8.ToArray(), Assert.Single(reply));
        Assert.Equal(HealthStatus.Healthy, client.Health.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task LameDuckMode_IsReportedInHealth()
    {
        await using var nats = await NatsServerProcess.StartAsync("lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"10s\"");
        await using var harness = await TransportHarness.StartAsync(new NatsTransportOptions { Url = nats.Url.ToString() });
        Assert.Equal(HealthStatus.Healthy, harness.Server.Health.Status);

        await nats.SignalAsync("ldm");

        await WaitUntilAsync(() => harness.Server.Health.Status == HealthStatus.Degraded);
        Assert.Contains("lame-duck", harness.Server.Health.Description, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var giveUp = DateTime.UtcNow + Step;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, "The condition did not become true in time.");
            await Task.Delay(50);
        }
    }
}
