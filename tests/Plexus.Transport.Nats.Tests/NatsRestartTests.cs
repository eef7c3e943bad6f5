using System.Buffers;
using Plexus.Transport.Nats.Client;

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
    public async Task Connection_ResubscribesAndDeliversWhatWasBufferedWhileDisconnected()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        var options = new NatsConnectionOptions
        {
            Servers = [nats.Url],
            ReconnectWait = TimeSpan.FromMilliseconds(100),
            MaxReconnectWait = TimeSpan.FromMilliseconds(300),
            ReconnectBufferBytes = 64 * 1024,
        };
        await using var subscriber = new NatsConnection(options);
        await using var publisher = new NatsConnection(options);
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.Disconnected += _ => disconnected.TrySetResult();
        publisher.Reconnected += () => reconnected.TrySetResult();
        await subscriber.ConnectAsync(CancellationToken.None).WaitAsync(Step);
        await publisher.ConnectAsync(CancellationToken.None).WaitAsync(Step);
        var handler = new CollectingHandler();
        subscriber.Subscribe("restart.test", null, handler);
        await subscriber.FlushAsync(CancellationToken.None).WaitAsync(Step);

        await nats.KillAsync();
        await disconnected.Task.WaitAsync(Step);
        Assert.Equal(NatsConnectionState.Reconnecting, publisher.State);

        // Buffered while disconnected, within the bound; past it, a clear error.
        publisher.Publish("restart.test", null, default, new ReadOnlySequence<byte>("while down"u8.ToArray()));
        var full = Assert.Throws<NatsException>(() => publisher.Publish("restart.test", null, default, new ReadOnlySequence<byte>(new byte[128 * 1024])));
        Assert.Equal(NatsErrorKind.BufferFull, full.Kind);
        Assert.Contains("reconnect buffer", full.Message, StringComparison.Ordinal);

        await nats.RestartAsync();
        await reconnected.Task.WaitAsync(Step);
        await WaitUntilAsync(() => subscriber.State == NatsConnectionState.Connected);
        await subscriber.FlushAsync(CancellationToken.None).WaitAsync(Step);

        // The buffered publish may race the subscriber's resubscription; what is published now must arrive.
        publisher.Publish("restart.test", null, default, new ReadOnlySequence<byte>("after"u8.ToArray()));
        string last;
        do
        {
            last = (await handler.NextAsync(Step)).Text;
        }
        while (last != "after");
    }

    [Fact(Timeout = 60_000)]
    public async Task LameDuckMode_IsReported()
    {
        await using var nats = await NatsServerProcess.StartAsync("lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"10s\"");
        await using var connection = new NatsConnection(new NatsConnectionOptions { Servers = [nats.Url] });
        var lameDuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.LameDuck += () => lameDuck.TrySetResult();
        await connection.ConnectAsync(CancellationToken.None).WaitAsync(Step);

        await nats.SignalAsync("ldm");

        await lameDuck.Task.WaitAsync(Step);
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
