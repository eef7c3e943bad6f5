using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// A request from an ordinary NATS client (no Plexus headers, only a reply subject), to an instance's request subject
/// or to the endpoint's queue subject, is served as a unary call: the handler gets the payload and the caller's
/// headers, its first message is the one NATS reply (without headers), and a failure is the NATS services API's error
/// reply (<c>Nats-Service-Error</c>, <c>Nats-Service-Error-Code</c>). Checked with NATS.Client.Core and with the
/// official JavaScript client, which shares no code with Plexus.
/// </summary>
public sealed class NatsPlainCallerTests(NatsServerFixture nats) : IClassFixture<NatsServerFixture>
{
    // Long enough for a first nats.js use in the run to install its npm package.
    private const int NodeTestTimeout = 180_000;

    private static TimeSpan Step => TransportHarness.Step;

    [Fact(Timeout = 60_000)]
    public async Task PlainRequest_ToTheInstanceOrTheQueueSubject_IsAUnaryCall_WithTheCallersPayloadAndHeaders()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests.plain", $"unary{Tag()}", "echo");
        var instance = InstanceId.NewId();
        var handler = new RecordingEchoHandler();
        server.Register(endpoint, instance, handler);
        await using var connection = await ConnectAsync();
        await WaitForQueueAsync(connection, endpoint);

        // Every byte value, so nothing in between treats the payload as text.
        var payload = Enumerable.Range(0, 256).Select(value => (byte)value).ToArray();
        foreach (var subject in new[] { NatsAddress.RequestSubject("plexus", endpoint, instance, server.ServerId), NatsAddress.EndpointSubject("plexus", endpoint) })
        {
            var headers = new NatsHeaders { ["trace"] = "t-1", ["Nats-Msg-Id"] = "m-1" };

            var reply = await connection.RequestAsync<byte[], byte[]>(subject, payload, headers).AsTask().WaitAsync(Step);

            // The reply is the handler's message, and nothing of the Plexus protocol: no frame headers at all.
            Assert.Equal(payload, reply.Data);
            Assert.Null(reply.Headers);

            // The handler saw the payload and the caller's own headers; Nats-* headers are NATS's, not the caller's.
            Assert.True(handler.Seen.TryDequeue(out var seen), $"The handler did not run for {subject}.");
            Assert.Equal(payload, seen.Payload);
            Assert.Equal("t-1", Assert.Single(seen.Headers, header => header.Key == "trace").Value);
            Assert.Single(seen.Headers);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task StreamingHandler_PlainCallerGetsTheFirstMessageOnly_AndTheHandlerIsStoppedAfterIt()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests", $"stream{Tag()}", "generate");
        var instance = InstanceId.NewId();
        var handler = new StreamingHandler();
        server.Register(endpoint, instance, handler);
        await using var connection = await ConnectAsync();

        // A hand-made request, so that anything sent to the reply subject after the first message is seen.
        var inbox = connection.NewInbox();
        await using var replies = await connection.SubscribeCoreAsync<byte[]>(inbox);
        await connection.PingAsync();
        await connection.PublishAsync(NatsAddress.RequestSubject("plexus", endpoint, instance, server.ServerId), "go"u8.ToArray(), replyTo: inbox);

        var first = await replies.Msgs.ReadAsync().AsTask().WaitAsync(Step);
        Assert.Equal("message 1", Encoding.UTF8.GetString(first.Data ?? []));
        Assert.Null(first.Headers);

        // The caller takes nothing more: the handler's token fires, and its next write fails.
        await handler.Aborted.Task.WaitAsync(Step);
        await handler.Ended.Task.WaitAsync(Step);
        Assert.Equal(1, handler.Written);
        Assert.NotNull(handler.WriteFailure);

        // Whatever the server sent is at nats-server before its PONG, and reaches this connection before ours.
        await server.Link.ConfirmAsync(CancellationToken.None).AsTask().WaitAsync(Step);
        await connection.PingAsync();
        Assert.False(replies.Msgs.TryRead(out var more), $"A second reply reached the plain caller: {Encoding.UTF8.GetString(more.Data ?? [])}");
    }

    [Fact(Timeout = 60_000)]
    public async Task HandlerThatWritesNothing_GivesAnEmptyReply()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests", $"silent{Tag()}", "nothing");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new SilentHandler());
        await using var connection = await ConnectAsync();

        var reply = await connection.RequestAsync<byte[], byte[]>(NatsAddress.RequestSubject("plexus", endpoint, instance, server.ServerId), "anything"u8.ToArray()).AsTask().WaitAsync(Step);

        // An answer, at once: not a timeout, and not an error.
        Assert.Empty(reply.Data ?? []);
        Assert.Null(reply.Headers);
    }

    [Fact(Timeout = 60_000)]
    public async Task ThrowingHandler_GivesAnEmptyReplyWithTheServiceErrorHeaders_OnOneLine()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests", $"throws{Tag()}", "boom");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new ThrowingHandler("broken\r\nat line two\nand three"));
        await using var connection = await ConnectAsync();
        await WaitForQueueAsync(connection, endpoint);

        foreach (var subject in new[] { NatsAddress.RequestSubject("plexus", endpoint, instance, server.ServerId), NatsAddress.EndpointSubject("plexus", endpoint) })
        {
            var reply = await connection.RequestAsync<byte[], byte[]>(subject, "x"u8.ToArray()).AsTask().WaitAsync(Step);

            Assert.Empty(reply.Data ?? []);

            // NATS headers cannot carry line breaks: the message arrives on one line. No status line: this is a reply,
            // not NATS's own no-responders.
            Assert.Equal("broken at line two and three", Header(reply, "Nats-Service-Error"));
            Assert.Equal("500", Header(reply, "Nats-Service-Error-Code"));
            Assert.Equal(((int)PlexusErrorCode.HandlerError).ToString(CultureInfo.InvariantCulture), Header(reply, "Plexus-Error-Code"));
            Assert.Equal(0, reply.Headers!.Code);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task EndpointNotServedOnTheInstanceSubject_Is503()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var served = new EndpointAddress("tests", $"refuse{Tag()}", "served");
        var instance = InstanceId.NewId();
        server.Register(served, instance, new EchoHandler());
        await using var connection = await ConnectAsync();

        // The server takes every request subject with its id; the dispatcher refuses what it does not serve.
        var unknown = await connection.RequestAsync<byte[], byte[]>(
            NatsAddress.RequestSubject("plexus", new EndpointAddress("tests", "refuse", "unknown"), instance, server.ServerId), "x"u8.ToArray()).AsTask().WaitAsync(Step);
        Assert.Empty(unknown.Data ?? []);
        Assert.Equal("503", Header(unknown, "Nats-Service-Error-Code"));
        Assert.Equal(((int)PlexusErrorCode.Unavailable).ToString(CultureInfo.InvariantCulture), Header(unknown, "Plexus-Error-Code"));
        Assert.Contains("not served here", Header(unknown, "Nats-Service-Error"), StringComparison.Ordinal);

        // Served, but as another instance: refused the same way.
        var stale = await connection.RequestAsync<byte[], byte[]>(
            NatsAddress.RequestSubject("plexus", served, InstanceId.NewId(), server.ServerId), "x"u8.ToArray()).AsTask().WaitAsync(Step);
        Assert.Equal("503", Header(stale, "Nats-Service-Error-Code"));
        Assert.Contains("stale", Header(stale, "Nats-Service-Error"), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ResponseOfMaxPayload_Arrives_OneByteMoreIs413()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var tag = Tag();

        // The fixture's nats-server takes messages of up to 1 MiB (headers included); a plain caller gets one message,
        // without headers, so a reply of exactly 1 MiB fits and one byte more cannot reach it.
        var fits = new EndpointAddress("tests", $"large{tag}", "fits");
        var over = new EndpointAddress("tests", $"large{tag}", "over");
        var instance = InstanceId.NewId();
        server.Register(fits, instance, new LargeHandler(1024 * 1024));
        server.Register(over, instance, new LargeHandler((1024 * 1024) + 1));
        await using var connection = await ConnectAsync();

        var whole = await connection.RequestAsync<byte[], byte[]>(NatsAddress.RequestSubject("plexus", fits, instance, server.ServerId), "x"u8.ToArray()).AsTask().WaitAsync(Step);
        var refused = await connection.RequestAsync<byte[], byte[]>(NatsAddress.RequestSubject("plexus", over, instance, server.ServerId), "x"u8.ToArray()).AsTask().WaitAsync(Step);

        Assert.Equal(1024 * 1024, server.Link.MaxPayload);
        Assert.Null(whole.Headers);
        Assert.Equal(1024 * 1024, whole.Data?.Length);
        Assert.Empty(refused.Data ?? []);
        Assert.Equal("413", Header(refused, "Nats-Service-Error-Code"));
        Assert.Equal(((int)PlexusErrorCode.PayloadTooLarge).ToString(CultureInfo.InvariantCulture), Header(refused, "Plexus-Error-Code"));
        Assert.Contains("max_payload", Header(refused, "Nats-Service-Error"), StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(null, "500")]
    [InlineData(PlexusErrorCode.Overloaded, "429")]
    [InlineData(PlexusErrorCode.Timeout, "504")]
    [InlineData(PlexusErrorCode.ProtocolError, "400")]
    public async Task HandlerErrors_AreReportedWithTheirHttpStyleCode(PlexusErrorCode? thrown, string expected)
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests", $"codes{Tag()}", "fail");
        var instance = InstanceId.NewId();
        Exception error = thrown is { } code ? new PlexusException(code, $"failed as {code}") : new InvalidOperationException("failed as a bug");
        server.Register(endpoint, instance, new ThrowingHandler(error));
        await using var connection = await ConnectAsync();

        var reply = await connection.RequestAsync<byte[], byte[]>(NatsAddress.RequestSubject("plexus", endpoint, instance, server.ServerId), "x"u8.ToArray()).AsTask().WaitAsync(Step);

        Assert.Equal(expected, Header(reply, "Nats-Service-Error-Code"));
        Assert.Equal(error.Message, Header(reply, "Nats-Service-Error"));
        Assert.Equal(((int)(thrown ?? PlexusErrorCode.HandlerError)).ToString(CultureInfo.InvariantCulture), Header(reply, "Plexus-Error-Code"));
    }

    [Fact(Timeout = NodeTestTimeout)]
    public async Task NatsJs_QueueSubjectEchoes_AndAThrowingHandlerIsAServiceError()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var tag = Tag();
        var echo = new EndpointAddress("tests", $"js{tag}", "echo");
        var throwing = new EndpointAddress("tests", $"js{tag}", "boom");
        var handler = new RecordingEchoHandler();
        harness.Server.Register(echo, InstanceId.NewId(), handler);
        harness.Server.Register(throwing, InstanceId.NewId(), new ThrowingHandler($"js broke {tag}"));
        await using (var connection = await ConnectAsync())
        {
            await WaitForQueueAsync(connection, echo);
            await WaitForQueueAsync(connection, throwing);
        }

        var reply = await NodeNatsClient.RequestAsync(
            nats.Server.Url, NatsAddress.EndpointSubject("plexus", echo), "from nats.js"u8.ToArray(), new Dictionary<string, string> { ["trace"] = "js-1" }, Step);

        Assert.True(reply.Ok, reply.ToString());
        Assert.Equal("from nats.js", Encoding.UTF8.GetString(reply.Payload));
        Assert.Null(reply.Headers);
        Assert.True(handler.Seen.TryDequeue(out var seen));
        Assert.Equal("js-1", seen.Headers["trace"]);

        var failed = await NodeNatsClient.RequestAsync(nats.Server.Url, NatsAddress.EndpointSubject("plexus", throwing), "x"u8.ToArray(), null, Step);

        // A reply, not a nats.js error: the failure is in the services API's headers, as nats.js's services code reads them.
        Assert.True(failed.Ok, failed.ToString());
        Assert.Empty(failed.Payload);
        Assert.Null(failed.StatusCode);
        Assert.NotNull(failed.Headers);
        var headers = new Dictionary<string, IReadOnlyList<string>>(failed.Headers, StringComparer.OrdinalIgnoreCase);
        Assert.Equal([$"js broke {tag}"], headers["Nats-Service-Error"]);
        Assert.Equal(["500"], headers["Nats-Service-Error-Code"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task QueueSubject_SpreadsOverEveryServerOfTheEndpoint_UntilOneStopsAccepting()
    {
        await using var one = await TransportHarness.StartAsync(Options());
        await using var two = await TransportHarness.StartAsync(Options());
        var endpoint = new EndpointAddress("tests", $"balance{Tag()}", "who");
        var first = new CountingHandler("one");
        var second = new CountingHandler("two");
        one.Server.Register(endpoint, InstanceId.NewId(), first);
        two.Server.Register(endpoint, InstanceId.NewId(), second);
        await using var connection = await ConnectAsync();
        var queue = NatsAddress.EndpointSubject("plexus", endpoint);

        await WaitForQueueAsync(connection, endpoint, servers: 2);
        var answers = new Dictionary<string, int>(StringComparer.Ordinal) { ["one"] = 0, ["two"] = 0 };
        for (var i = 0; i < 40; i++)
        {
            var reply = await connection.RequestAsync<byte[], byte[]>(queue, "who?"u8.ToArray()).AsTask().WaitAsync(Step);
            answers[Encoding.UTF8.GetString(reply.Data ?? [])]++;
        }

        // nats-server picks a member of the queue group at random: both get some (all 40 on one: 2 in 10^12).
        Assert.Equal(40, first.Count + second.Count);
        Assert.True(first.Count > 0 && second.Count > 0, $"one served {first.Count}, two served {second.Count}");
        Assert.Equal(first.Count, answers["one"]);
        Assert.Equal(second.Count, answers["two"]);

        // The first step of a drain takes the server out of the queue group: the other serves everything.
        await one.Server.StopAcceptingAsync(CancellationToken.None).AsTask().WaitAsync(Step);
        var before = (first.Count, second.Count);
        for (var i = 0; i < 20; i++)
        {
            var reply = await connection.RequestAsync<byte[], byte[]>(queue, "who?"u8.ToArray()).AsTask().WaitAsync(Step);
            Assert.Equal("two", Encoding.UTF8.GetString(reply.Data ?? []));
        }

        Assert.Equal(before.Item1, first.Count);
        Assert.Equal(before.Item2 + 20, second.Count);
    }

    private static string Header(NatsMsg<byte[]> reply, string name)
    {
        Assert.NotNull(reply.Headers);
        Assert.True(reply.Headers.TryGetValue(name, out var value), $"The reply has no {name} header.");
        return value.ToString();
    }

    // Waits until every server of the endpoint has its queue subscription: the services subscribe it a moment after
    // the endpoint is registered, and a service answers $SRV.PING once its endpoint was added, after that subscription
    // went out on the same connection.
    private static async Task WaitForQueueAsync(NatsConnection connection, EndpointAddress endpoint, int servers = 1)
    {
        var subject = $"$SRV.PING.{NatsServiceNames.Service(endpoint)}";
        var giveUp = DateTime.UtcNow + Step;
        while (true)
        {
            var answers = 0;
            try
            {
                await foreach (var _ in connection.RequestManyAsync<byte[], byte[]>(subject, [], replyOpts: new NatsSubOpts { Timeout = TimeSpan.FromMilliseconds(300), MaxMsgs = servers }))
                {
                    answers++;
                }
            }
            catch (NatsNoRespondersException)
            {
            }

            if (answers == servers)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < giveUp, $"{subject} did not get {servers} answers.");
            await Task.Delay(20);
        }
    }

    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private async Task<NatsConnection> ConnectAsync()
    {
        var connection = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString(), Name = "plain-caller" });
        await connection.ConnectAsync().AsTask().WaitAsync(Step);
        return connection;
    }

    private NatsTransportOptions Options() =>
        new() { Url = nats.Server.Url.ToString(), KeepAliveInterval = TimeSpan.FromMilliseconds(500) };

    // Echoes, and keeps what each request carried.
    private sealed class RecordingEchoHandler : IEndpointHandler
    {
        public ConcurrentQueue<(byte[] Payload, IReadOnlyDictionary<string, string> Headers)> Seen { get; } = new();

        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            var payload = request.Payload.ToArray();
            Seen.Enqueue((payload, new Dictionary<string, string>(request.Headers, StringComparer.Ordinal)));
            return responses.WriteMessageAsync(payload, request.RequestAborted);
        }
    }

    // Writes "message 1", "message 2", ... until a write fails; notes the abort and its end.
    private sealed class StreamingHandler : IEndpointHandler
    {
        private int _written;

        public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Written => Volatile.Read(ref _written);

        public Exception? WriteFailure { get; private set; }

        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            using var registration = request.RequestAborted.Register(() => Aborted.TrySetResult());
            try
            {
                for (var i = 1; i <= 100; i++)
                {
                    await responses.WriteMessageAsync(Encoding.UTF8.GetBytes($"message {i}"), request.RequestAborted);
                    Interlocked.Increment(ref _written);

                    // Past the first await, so that the first message is not the only one written before the reply.
                    await Task.Yield();
                }
            }
            catch (Exception exception)
            {
                WriteFailure = exception;
                throw;
            }
            finally
            {
                Ended.TrySetResult();
            }
        }
    }

    private sealed class SilentHandler : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => default;
    }

    private sealed class ThrowingHandler(Exception error) : IEndpointHandler
    {
        public ThrowingHandler(string message)
            : this(new InvalidOperationException(message))
        {
        }

        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => throw error;
    }

    private sealed class LargeHandler(int size) : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => responses.WriteMessageAsync(new byte[size], request.RequestAborted);
    }

    // Answers with its name, and counts the requests it served.
    private sealed class CountingHandler(string name) : IEndpointHandler
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            Interlocked.Increment(ref _count);
            return responses.WriteMessageAsync(Encoding.UTF8.GetBytes(name), request.RequestAborted);
        }
    }
}
