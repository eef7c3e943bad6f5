using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats.Tests;

public sealed class NatsConnectionTests(NatsServerFixture nats) : IClassFixture<NatsServerFixture>
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Fact(Timeout = 30_000)]
    public async Task PublishAndSubscribe_WithAndWithoutHeaders_DeliverSubjectReplyHeadersAndPayload()
    {
        await using var connection = await ConnectAsync();
        var handler = new CollectingHandler();
        var subject = Unique("pubsub");
        connection.Subscribe(subject, null, handler);
        await connection.FlushAsync(CancellationToken.None).WaitAsync(Step);

        connection.Publish(subject, "reply.here", default, new ReadOnlySequence<byte>("plain"u8.ToArray()));
        var headers = new NatsHeaderWriter().Start().Add("Trace", "abc").Add("Empty", string.Empty).End();
        await connection.PublishAsync(subject, null, headers, new ReadOnlySequence<byte>("with headers"u8.ToArray()), CancellationToken.None);

        var first = await handler.NextAsync();
        Assert.Equal(subject, first.Subject);
        Assert.Equal("reply.here", first.ReplyTo);
        Assert.Equal("plain", first.Text);
        Assert.Empty(first.Headers);

        var second = await handler.NextAsync();
        Assert.Equal("with headers", second.Text);
        Assert.Equal("abc", second.Headers["Trace"]);
        Assert.Equal(string.Empty, second.Headers["Empty"]);
        Assert.Equal(string.Empty, second.ReplyTo);
    }

    [Fact(Timeout = 30_000)]
    public async Task ManyPublishes_ArriveInOrder()
    {
        await using var connection = await ConnectAsync();
        var handler = new CollectingHandler();
        var subject = Unique("order");
        connection.Subscribe(subject, null, handler);

        // Appended from one thread without waiting: the write loop batches them into few socket writes.
        for (var i = 0; i < 5000; i++)
        {
            connection.Publish(subject, null, default, new ReadOnlySequence<byte>(BitConverter.GetBytes(i)));
        }

        for (var i = 0; i < 5000; i++)
        {
            var message = await handler.NextAsync();
            Assert.Equal(i, BitConverter.ToInt32(message.Payload));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task QueueGroup_DeliversEachMessageToOneMember()
    {
        await using var connection = await ConnectAsync();
        var a = new CollectingHandler();
        var b = new CollectingHandler();
        var subject = Unique("queue");
        connection.Subscribe(subject, "workers", a);
        connection.Subscribe(subject, "workers", b);
        await connection.FlushAsync(CancellationToken.None).WaitAsync(Step);

        for (var i = 0; i < 100; i++)
        {
            connection.Publish(subject, null, default, new ReadOnlySequence<byte>([(byte)i]));
        }

        await connection.FlushAsync(CancellationToken.None).WaitAsync(Step);
        await Task.Delay(200);
        var count = 0;
        while (a.TryNext(out _))
        {
            count++;
        }

        while (b.TryNext(out _))
        {
            count++;
        }

        Assert.Equal(100, count);
    }

    [Fact(Timeout = 30_000)]
    public async Task Unsubscribe_StopsDelivery()
    {
        await using var connection = await ConnectAsync();
        var handler = new CollectingHandler();
        var subject = Unique("unsub");
        var subscription = connection.Subscribe(subject, null, handler);
        connection.Publish(subject, null, default, new ReadOnlySequence<byte>("one"u8.ToArray()));
        Assert.Equal("one", (await handler.NextAsync()).Text);

        connection.Unsubscribe(subscription);
        connection.Publish(subject, null, default, new ReadOnlySequence<byte>("two"u8.ToArray()));
        await connection.FlushAsync(CancellationToken.None).WaitAsync(Step);

        Assert.False(handler.TryNext(out _));
    }

    [Fact(Timeout = 30_000)]
    public async Task RequestReply_GoesThroughTheSharedInbox()
    {
        await using var responder = await ConnectAsync();
        await using var requester = await ConnectAsync();
        var subject = Unique("rr");
        responder.Subscribe(subject, null, new EchoResponder(responder));
        await responder.FlushAsync(CancellationToken.None).WaitAsync(Step);

        var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            requester.RequestAsync(subject, default, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes($"q{i}")), Step, CancellationToken.None)));

        for (var i = 0; i < replies.Length; i++)
        {
            Assert.Equal($"q{i}", Encoding.UTF8.GetString(replies[i].Payload));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task RequestWithNoResponders_FailsAtOnce()
    {
        await using var connection = await ConnectAsync();

        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<NatsException>(() =>
            connection.RequestAsync(Unique("nobody"), default, ReadOnlySequence<byte>.Empty, TimeSpan.FromSeconds(20), CancellationToken.None));

        Assert.Equal(NatsErrorKind.NoResponders, error.Kind);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "No responders must not wait for the request timeout.");
    }

    [Fact(Timeout = 30_000)]
    public async Task PublishAboveMaxPayload_IsRefusedByTheClient()
    {
        await using var connection = await ConnectAsync();
        var tooBig = new byte[connection.MaxPayload + 1];

        var error = Assert.Throws<NatsException>(() => connection.Publish("x", null, default, new ReadOnlySequence<byte>(tooBig)));

        Assert.Equal(NatsErrorKind.PayloadTooLarge, error.Kind);
        Assert.Equal(1024 * 1024, connection.MaxPayload);
    }

    [Fact(Timeout = 30_000)]
    public async Task Drain_DeliversWhatWasPublishedBeforeIt_ThenCloses()
    {
        await using var subscriber = await ConnectAsync();
        var publisher = await ConnectAsync();
        var handler = new CollectingHandler();
        var subject = Unique("drain");
        subscriber.Subscribe(subject, null, handler);
        await subscriber.FlushAsync(CancellationToken.None).WaitAsync(Step);

        for (var i = 0; i < 100; i++)
        {
            publisher.Publish(subject, null, default, new ReadOnlySequence<byte>([(byte)i]));
        }

        await publisher.DrainAsync(CancellationToken.None).WaitAsync(Step);

        Assert.Equal(NatsConnectionState.Closed, publisher.State);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(i, (await handler.NextAsync()).Payload[0]);
        }

        Assert.Throws<NatsException>(() => publisher.Publish(subject, null, default, ReadOnlySequence<byte>.Empty));
    }

    [Fact(Timeout = 30_000)]
    public async Task ServerPings_AreAnswered_SoTheConnectionStays()
    {
        await using var server = await NatsServerProcess.StartAsync("ping_interval: \"250ms\"\nping_max: 4");
        await using var connection = new NatsConnection(new NatsConnectionOptions { Servers = [server.Url], AllowReconnect = false });
        await connection.ConnectAsync(CancellationToken.None).WaitAsync(Step);

        await Task.Delay(2500);

        Assert.True(connection.State == NatsConnectionState.Connected, $"{connection.State}: {connection.LastError}\n{server.Log}");
        await connection.FlushAsync(CancellationToken.None).WaitAsync(Step);
    }

    [Fact(Timeout = 30_000)]
    public async Task SilentServer_IsDroppedAfterTwoUnansweredPings()
    {
        await using var fake = new FakeNatsServer(answerPings: 1);
        var disconnected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new NatsConnection(new NatsConnectionOptions
        {
            Servers = [fake.Url],
            PingInterval = TimeSpan.FromMilliseconds(100),
            MaxPingsOutstanding = 2,
            ReconnectWait = TimeSpan.FromSeconds(30),
        });
        connection.Disconnected += reason => disconnected.TrySetResult(reason);

        await connection.ConnectAsync(CancellationToken.None).WaitAsync(Step);
        var reason = await disconnected.Task.WaitAsync(Step);

        Assert.Contains("did not answer 2 pings", reason, StringComparison.Ordinal);
        Assert.Equal(NatsConnectionState.Reconnecting, connection.State);
    }

    [Fact(Timeout = 30_000)]
    public async Task ServerThatNeverSendsInfo_FailsTheConnectAfterTheTimeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = new Uri($"nats://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await using var connection = new NatsConnection(new NatsConnectionOptions { Servers = [url], ConnectTimeout = TimeSpan.FromMilliseconds(300) });

        var error = await Assert.ThrowsAsync<NatsException>(() => connection.ConnectAsync(CancellationToken.None).WaitAsync(Step));

        Assert.Equal(NatsErrorKind.Timeout, error.Kind);
        Assert.Contains("took longer than", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task ErrDuringTheHandshake_FailsTheConnectWithTheServersText()
    {
        await using var fake = new FakeNatsServer(answerPings: 0, errOnConnect: "Unknown Protocol Operation");
        await using var connection = new NatsConnection(new NatsConnectionOptions { Servers = [fake.Url] });

        var error = await Assert.ThrowsAsync<NatsException>(() => connection.ConnectAsync(CancellationToken.None).WaitAsync(Step));

        Assert.Contains("Unknown Protocol Operation", error.Message, StringComparison.Ordinal);
        Assert.Equal(NatsConnectionState.Created, connection.State);
    }

    [Fact(Timeout = 30_000)]
    public async Task NobodyListening_FailsTheConnectNamingTheServer()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var connection = new NatsConnection(new NatsConnectionOptions { Servers = [new Uri($"nats://127.0.0.1:{port}")] });

        var error = await Assert.ThrowsAsync<NatsException>(() => connection.ConnectAsync(CancellationToken.None).WaitAsync(Step));

        Assert.Equal(NatsErrorKind.Connection, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    private static string Unique(string name) => $"test.{name}.{Guid.NewGuid():N}";

    private async Task<NatsConnection> ConnectAsync()
    {
        var connection = new NatsConnection(new NatsConnectionOptions { Servers = [nats.Server.Url], Name = "tests" });
        await connection.ConnectAsync(CancellationToken.None).WaitAsync(Step);
        return connection;
    }

    private sealed class EchoResponder(NatsConnection connection) : INatsMessageHandler
    {
        public void OnMessage(in NatsMessage message) =>
            connection.Publish(Encoding.UTF8.GetString(message.ReplyTo), null, default, new ReadOnlySequence<byte>(message.Payload.ToArray()));
    }
}
