using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// Small request heads to one subject share NATS messages (<c>heads</c> frames) once the server has said it reads
/// them (<c>Plexus-Batch</c>), and one-frame answers to one client share NATS messages (<c>lasts</c> frames) when the
/// client announced <c>Plexus-Packed: 2</c>. Older servers only ever get plain heads; older clients get today's
/// frames; a malformed batch fails the requests it carries and nothing else.
/// </summary>
public sealed class NatsBatchingTests(NatsServerFixture nats) : IClassFixture<NatsServerFixture>
{
    private static TimeSpan Step => TransportHarness.Step;

    [Fact(Timeout = 120_000)]
    public async Task ConcurrentUnaryCalls_CompleteCorrectly_InFewerThanTwoNatsMessagesEach()
    {
        const int Callers = 64;
        const int Rounds = 20;
        await using var harness = await TransportHarness.StartAsync(Options());
        var (endpoint, instance) = harness.Serve("batch", new EchoHandler());

        // The first answer tells the client that the server reads heads frames.
        Assert.Equal("hello"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "hello"u8.ToArray()))));
        await using var counter = await Counter.StartAsync(nats.Server.Url, ">");

        var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            for (var round = 0; round < Rounds; round++)
            {
                var payload = Encoding.UTF8.GetBytes($"caller {caller} round {round}");
                var messages = await harness.CallAsync(TransportHarness.Request(endpoint, instance, payload));
                Assert.Equal(payload, Assert.Single(messages));
            }
        })).ToArray();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(100));

        var seen = await counter.SettleAsync();
        var calls = Callers * Rounds;
        var toServer = seen.Count(m => m.Subject.StartsWith("plexus.", StringComparison.Ordinal) && !m.Subject.Contains("._ctl.", StringComparison.Ordinal));
        var toClient = seen.Count(m => m.Subject.StartsWith("_INBOX.", StringComparison.Ordinal));
        var summary = $"{calls} calls took {toServer} NATS messages to the server ({seen.Count(m => m.Kind == "heads")} heads frames) and {toClient} back ({seen.Count(m => m.Kind == "lasts")} lasts frames).";
        Assert.True(toServer + toClient < 2 * calls, summary);
        Assert.True(seen.Any(m => m.Kind == "heads"), summary);
        Assert.True(seen.Any(m => m.Kind == "lasts"), summary);
        Assert.Equal(0, ((NatsClient)harness.Client).InFlight);
    }

    [Fact(Timeout = 60_000)]
    public async Task BatchedHeadsToAServerThatIsGone_FailEveryRequest_UnavailableBeforeFirstByte()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var (endpoint, instance) = harness.Serve("batch", new EchoHandler());
        Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "hello"u8.ToArray())));
        var address = harness.Server.Address;
        await harness.Server.DisposeAsync();

        var sawBatch = false;
        for (var attempt = 0; attempt < 20 && !sawBatch; attempt++)
        {
            // Sent from one thread without yielding: the heads gather before the work item that publishes them runs.
            var sends = await Task.Run(() => Enumerable.Range(0, 64).Select(i => Outcome(harness.Client.SendAsync(address, TransportHarness.Request(endpoint, instance, [(byte)i]), CancellationToken.None))).ToArray());
            foreach (var failure in await Task.WhenAll(sends).WaitAsync(Step))
            {
                Assert.Equal(PlexusErrorCode.Unavailable, failure.Code);
                Assert.True(failure.BeforeFirstByte, failure.Message);
            }

            sawBatch = ((NatsClient)harness.Client).HeadBatchesSent > 0;
        }

        Assert.True(sawBatch, "no heads frame was sent");
        Assert.Equal(0, ((NatsClient)harness.Client).InFlight);

        static async Task<PlexusException> Outcome(ValueTask<IResponseStream> sending)
        {
            try
            {
                await using var stream = await sending;
                await stream.MoveNextAsync().AsTask().WaitAsync(Step);
            }
            catch (PlexusException exception)
            {
                return exception;
            }

            throw new InvalidOperationException("A request to a server that is gone succeeded.");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestsCancelledWhileTheirHeadsWait_AreCancelledOnTheServerToo()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var handler = new HoldingHandler();
        var (endpoint, instance) = harness.Serve("batch", handler);
        Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "hello"u8.ToArray())));
        var client = (NatsClient)harness.Client;

        // Sent and cancelled from one thread without yielding, so that heads are usually still gathered when their
        // cancels go out and the server hears of those requests only after the cancel (the keep-alive, 10 s here,
        // would end them only after 30 s). Another thread may publish a gather early, so a round may show nothing:
        // it is repeated until one has sent a heads frame and started handlers, and in every round each handler
        // started must be aborted.
        var shown = false;
        for (var round = 0; round < 10 && !shown; round++)
        {
            var batches = client.HeadBatchesSent;
            var started = handler.Started;
            var streams = await Task.Run(async () =>
            {
                var sent = new List<(IResponseStream Stream, CancellationTokenSource Cancel)>();
                for (var i = 0; i < 64; i++)
                {
                    var cancel = new CancellationTokenSource();
                    sent.Add((await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, [(byte)i]), cancel.Token), cancel));
                }

                foreach (var (_, cancel) in sent)
                {
                    cancel.Cancel();
                }

                return sent;
            });

            // Handlers of the heads that got through start within moments; each must then be aborted.
            await Task.Delay(300);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (handler.Aborted < handler.Started && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(handler.Started, handler.Aborted);
            shown = client.HeadBatchesSent > batches && handler.Started > started;
            foreach (var (stream, cancel) in streams)
            {
                await stream.DisposeAsync();
                cancel.Dispose();
            }
        }

        Assert.True(shown, "in 10 rounds, no heads frame carried cancelled requests whose handlers started");
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerThatNeverAnnounces_OnlyEverGetsPlainHeads()
    {
        var serverId = TransportHarness.RandomServerId();
        await using var raw = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString(), Name = "old-server" });
        await raw.ConnectAsync();
        await using var heads = await raw.SubscribeCoreAsync<byte[]>($"plexus.*.*.*.*.{serverId}");
        await raw.PingAsync();
        var frames = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        // A server from before heads frames: answers each head with one last frame, without Plexus-Batch.
        var standIn = Task.Run(async () =>
        {
            await foreach (var head in heads.Msgs.ReadAllAsync(stop.Token))
            {
                frames.Add(head.Headers?.TryGetValue("Plexus-Frame", out var kind) == true ? kind.ToString() : "head");
                await raw.PublishAsync(head.ReplyTo!, head.Data, new NatsHeaders { ["Plexus-Frame"] = "last", ["Plexus-Seq"] = "0" });
            }
        });
        await using var client = new NatsTransportFactory(Options(), ArrayPool<byte>.Shared).CreateClient();
        var address = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus/{serverId}");
        var endpoint = new EndpointAddress("tests", "batch", "old");
        var instance = InstanceId.NewId();

        var callers = Enumerable.Range(0, 64).Select(caller => Task.Run(async () =>
        {
            for (var round = 0; round < 10; round++)
            {
                var payload = Encoding.UTF8.GetBytes($"{caller}/{round}");
                await using var stream = await client.SendAsync(address, TransportHarness.Request(endpoint, instance, payload), CancellationToken.None);
                Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
                Assert.Equal(payload, stream.Current.ToArray());
                Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
            }
        })).ToArray();
        await Task.WhenAll(callers).WaitAsync(Step);
        await stop.CancelAsync();

        Assert.Equal(640, frames.Count);
        Assert.All(frames, kind => Assert.Equal("head", kind));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(null)]
    [InlineData("1")]
    public async Task ClientThatNeverAnnounces_GetsOneLastFramePerRequest(string? packed)
    {
        const int Count = 32;
        var inbox = "_INBOX.oldclient" + Guid.NewGuid().ToString("N");
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, inbox + ".>");
        await using var harness = await TransportHarness.StartAsync(Options());
        var target = NatsAddress.Parse(harness.Server.Address);
        var (endpoint, instance) = harness.Serve("batch", new EchoHandler());
        var subject = NatsAddress.RequestSubject(target.Prefix, endpoint, instance, target.ServerId);

        // Heads as a client from before lasts frames writes them, all at once.
        for (var i = 0; i < Count; i++)
        {
            var payload = Encoding.UTF8.GetBytes($"request {i}");
            await frames.Connection.PublishAsync(subject, payload, Head($"r{i}", payload.Length, packed), $"{inbox}.{i}");
        }

        var answered = new HashSet<string>();
        for (var i = 0; i < Count; i++)
        {
            var frame = await frames.NextAsync(Step);
            Assert.Equal("last", frame.Headers["Plexus-Frame"]);
            Assert.Equal("0", frame.Headers["Plexus-Seq"]);
            Assert.False(frame.Headers.ContainsKey("Plexus-Batch"));
            Assert.Equal($"request {frame.Subject[(inbox.Length + 1)..]}", frame.Text);
            Assert.True(answered.Add(frame.Subject));
        }

        await frames.Connection.PingAsync();
        Assert.False(frames.TryNext(out var more), $"more than one frame per request: {more?.Subject}");
    }

    [Fact(Timeout = 60_000)]
    public async Task HeadsFrameByHand_IsServed_AndATruncatedOne_FailsOnlyItsRequests()
    {
        var inbox = "_INBOX.byhand" + Guid.NewGuid().ToString("N");
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, inbox + ".>");
        await using var harness = await TransportHarness.StartAsync(Options());
        var target = NatsAddress.Parse(harness.Server.Address);
        var (endpoint, instance) = harness.Serve("batch", new EchoHandler());
        var subject = NatsAddress.RequestSubject(target.Prefix, endpoint, instance, target.ServerId);
        var batch = HeadsPayload((1, Head("r1", 10, "1"), "one"), (2, Head("r2", 10, "1"), "two"), (3, Head("r3", 10, "1"), "three"));

        // Truncated: the server answers the frame's own reply subject with one protocol error and takes none of it.
        await frames.Connection.PublishAsync(subject, batch[..^2], HeadsHeaders(3), $"{inbox}.b1");
        var error = await frames.NextAsync(Step);
        Assert.Equal($"{inbox}.b1", error.Subject);
        Assert.Equal("error", error.Headers["Plexus-Frame"]);
        Assert.Equal(((int)PlexusErrorCode.ProtocolError).ToString(CultureInfo.InvariantCulture), error.Headers["Plexus-Error-Code"]);
        Assert.Contains("malformed", error.Text, StringComparison.Ordinal);
        Assert.Contains("head 3 of the 3", error.Text, StringComparison.Ordinal);

        // Whole: each request is served as if its head had come alone, under the frame's inbox.
        await frames.Connection.PublishAsync(subject, batch, HeadsHeaders(3), $"{inbox}.b2");
        var answers = new Dictionary<string, string>();
        for (var i = 0; i < 3; i++)
        {
            var frame = await frames.NextAsync(Step);
            Assert.Equal("last", frame.Headers["Plexus-Frame"]);
            answers[frame.Subject] = frame.Text;
        }

        Assert.Equal("one", answers[$"{inbox}.1"]);
        Assert.Equal("two", answers[$"{inbox}.2"]);
        Assert.Equal("three", answers[$"{inbox}.3"]);

        // And the server carries on.
        Assert.Equal("still"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "still"u8.ToArray()))));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LastsFrame_CompletesEachRequest_AndATruncatedOne_FailsOnlyTheRequestsItNames(bool truncated)
    {
        var serverId = TransportHarness.RandomServerId();
        await using var raw = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString(), Name = "stand-in" });
        await raw.ConnectAsync();
        await using var heads = await raw.SubscribeCoreAsync<byte[]>($"plexus.*.*.*.*.{serverId}");
        await raw.PingAsync();

        // A stand-in server: the first two requests are answered in one lasts frame, the third alone.
        var standIn = Task.Run(async () =>
        {
            var replies = new List<string>();
            while (replies.Count < 3)
            {
                var head = await heads.Msgs.ReadAsync();
                Assert.Equal("2", head.Headers?["Plexus-Packed"].ToString());
                replies.Add(head.ReplyTo!);
            }

            var inbox = replies[0][..replies[0].LastIndexOf('.')];
            var lasts = LastsPayload((Number(replies[0]), "first"), (Number(replies[1]), "second"));
            await raw.PublishAsync($"{inbox}.lasts", truncated ? lasts[..^3] : lasts, new NatsHeaders { ["Plexus-Frame"] = "lasts", ["Plexus-Count"] = "2" });
            await raw.PublishAsync(replies[2], "third"u8.ToArray(), new NatsHeaders { ["Plexus-Frame"] = "last", ["Plexus-Seq"] = "0" });
            return replies;
        });
        await using var client = new NatsTransportFactory(Options(), ArrayPool<byte>.Shared).CreateClient();
        var address = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus/{serverId}");
        var endpoint = new EndpointAddress("tests", "batch", "lasts");
        var instance = InstanceId.NewId();
        var streams = new List<NatsResponseStream>();
        for (var i = 0; i < 3; i++)
        {
            streams.Add((NatsResponseStream)await client.SendAsync(address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step));
        }

        var replies = await standIn.WaitAsync(Step);
        var byInbox = streams.ToDictionary(s => s.Inbox);
        string[] expected = ["first", "second", "third"];
        for (var i = 0; i < 3; i++)
        {
            await using var stream = byInbox[replies[i]];
            if (truncated && i < 2)
            {
                var error = await Assert.ThrowsAsync<PlexusException>(() => stream.MoveNextAsync().AsTask().WaitAsync(Step));
                Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
                Assert.Contains("malformed lasts frame", error.Message, StringComparison.Ordinal);
                continue;
            }

            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
            Assert.Equal(expected[i], Encoding.UTF8.GetString(stream.Current.ToArray()));
            Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
        }

        Assert.Equal(0, ((NatsClient)client).InFlight);

        static ulong Number(string replyTo) => ulong.Parse(replyTo.AsSpan(replyTo.LastIndexOf('.') + 1), CultureInfo.InvariantCulture);
    }

    internal static NatsHeaders Head(string requestId, int length, string? packed)
    {
        var head = new NatsHeaders
        {
            ["Plexus-Request-Id"] = requestId,
            ["Plexus-Window"] = "1048576",
            ["Plexus-Keepalive"] = "10000",
            ["Plexus-Length"] = length.ToString(CultureInfo.InvariantCulture),
        };
        if (packed is not null)
        {
            head["Plexus-Packed"] = packed;
        }

        return head;
    }

    internal static NatsHeaders HeadsHeaders(int count) => new() { ["Plexus-Frame"] = "heads", ["Plexus-Count"] = count.ToString(CultureInfo.InvariantCulture) };

    // Each head: u64 number, u32 header block length, u32 payload length, the block, the payload.
    internal static byte[] HeadsPayload(params (ulong Number, NatsHeaders Head, string Payload)[] heads)
    {
        var bytes = new List<byte>();
        foreach (var (number, head, text) in heads)
        {
            head["Plexus-Length"] = Encoding.UTF8.GetByteCount(text).ToString(CultureInfo.InvariantCulture);
            var block = new StringBuilder("NATS/1.0\r\n");
            foreach (var (name, value) in head)
            {
                block.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
            }

            block.Append("\r\n");
            var blockBytes = Encoding.UTF8.GetBytes(block.ToString());
            var payload = Encoding.UTF8.GetBytes(text);
            var entry = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(entry, number);
            BinaryPrimitives.WriteUInt32BigEndian(entry.AsSpan(8), (uint)blockBytes.Length);
            BinaryPrimitives.WriteUInt32BigEndian(entry.AsSpan(12), (uint)payload.Length);
            bytes.AddRange(entry);
            bytes.AddRange(blockBytes);
            bytes.AddRange(payload);
        }

        return [.. bytes];
    }

    // Each answer: u64 number, u8 kind (1 last), u8 flags, u16 error code, u32 length, the payload.
    internal static byte[] LastsPayload(params (ulong Number, string Payload)[] answers)
    {
        var bytes = new List<byte>();
        foreach (var (number, text) in answers)
        {
            var payload = Encoding.UTF8.GetBytes(text);
            var entry = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(entry, number);
            entry[8] = 1;
            BinaryPrimitives.WriteUInt32BigEndian(entry.AsSpan(12), (uint)payload.Length);
            bytes.AddRange(entry);
            bytes.AddRange(payload);
        }

        return [.. bytes];
    }

    private NatsTransportOptions Options() =>
        new() { Url = nats.Server.Url.ToString(), KeepAliveInterval = TimeSpan.FromSeconds(10) };

    /// <summary>Answers "hello" at once; holds every other request until it is aborted, counting both.</summary>
    private sealed class HoldingHandler : IEndpointHandler
    {
        private int _started;
        private int _aborted;

        public int Started => Volatile.Read(ref _started);

        public int Aborted => Volatile.Read(ref _aborted);

        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            if (request.Payload.Length == 5)
            {
                await responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted);
                return;
            }

            Interlocked.Increment(ref _started);
            try
            {
                await Task.Delay(Timeout.Infinite, request.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _aborted);
            }
        }
    }

    /// <summary>Every message nats-server delivers on a subject, read as it comes so that none is dropped.</summary>
    private sealed class Counter : IAsyncDisposable
    {
        private readonly NatsConnection _connection;
        private readonly INatsSub<byte[]> _subscription;
        private readonly ConcurrentQueue<Seen> _seen = new();
        private readonly Task _reading;

        private Counter(NatsConnection connection, INatsSub<byte[]> subscription)
        {
            _connection = connection;
            _subscription = subscription;
            _reading = Task.Run(async () =>
            {
                await foreach (var message in subscription.Msgs.ReadAllAsync())
                {
                    var kind = message.Headers?.TryGetValue("Plexus-Frame", out var value) == true ? value.ToString() : "head";
                    _seen.Enqueue(new Seen(message.Subject, kind));
                }
            });
        }

        public static async Task<Counter> StartAsync(Uri server, string subject)
        {
            var connection = new NatsConnection(new NatsOpts { Url = server.ToString(), Name = "counter", SubPendingChannelCapacity = 1 << 20 });
            await connection.ConnectAsync();
            var subscription = await connection.SubscribeCoreAsync<byte[]>(subject);
            await connection.PingAsync();
            return new Counter(connection, subscription);
        }

        // What arrived up to now, once nats-server has delivered what it had and the reader has caught up.
        public async Task<List<Seen>> SettleAsync()
        {
            await _connection.PingAsync();
            var last = -1;
            while (_seen.Count != last)
            {
                last = _seen.Count;
                await Task.Delay(200);
            }

            var seen = new List<Seen>();
            while (_seen.TryDequeue(out var one))
            {
                seen.Add(one);
            }

            return seen;
        }

        public async ValueTask DisposeAsync()
        {
            await _subscription.DisposeAsync();
            await _connection.DisposeAsync();
            await _reading.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private sealed record Seen(string Subject, string Kind);
}
