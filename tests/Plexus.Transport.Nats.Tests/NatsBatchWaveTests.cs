using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// Batches keep together across a round trip: the requests of one <c>heads</c> frame whose handlers answer at once
/// are answered by one <c>lasts</c> frame, and the callers woken by one <c>lasts</c> frame send the requests they make
/// next as one <c>heads</c> frame, each side's batch run on one work item.
/// </summary>
public sealed class NatsBatchWaveTests(NatsServerFixture nats) : IClassFixture<NatsServerFixture>
{
    private const int Requests = 12;

    private static TimeSpan Step => TransportHarness.Step;

    [Fact(Timeout = 60_000)]
    public async Task HeadsFrame_WhoseHandlersAnswerAtOnce_IsAnsweredByOneLastsFrame()
    {
        await using var wave = await ServedAsync(new EchoHandler());
        var (inbox, frames, subject) = (wave.Inbox, wave.Frames, wave.Subject);

        for (var round = 0; round < 3; round++)
        {
            var heads = Enumerable.Range(1, Requests)
                .Select(i => ((ulong)i, NatsBatchingTests.Head($"r{round}-{i}", 0, "2"), $"round {round} request {i}"))
                .ToArray();
            await frames.Connection.PublishAsync(subject, NatsBatchingTests.HeadsPayload(heads), NatsBatchingTests.HeadsHeaders(Requests), $"{inbox}.b{round}");

            // One NATS message answers them all, the last request's answer included, though nothing else is in flight.
            var answer = await frames.NextAsync(Step);
            Assert.Equal($"{inbox}.lasts", answer.Subject);
            Assert.Equal("lasts", answer.Headers["Plexus-Frame"]);
            Assert.Equal(Requests.ToString(CultureInfo.InvariantCulture), answer.Headers["Plexus-Count"]);
            var answers = ReadLasts(answer.Payload);
            Assert.Equal(Enumerable.Range(1, Requests).Select(i => ((ulong)i, $"round {round} request {i}")), answers.OrderBy(a => a.Number));
            await Task.Delay(200);
            Assert.False(frames.TryNext(out var extra), $"a further frame came: {extra}");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task HandlerThatBlocksBeforeItsFirstWait_DelaysOnlyTheRequestsAfterItInItsFrame()
    {
        using var blocking = new BlockingHandler();
        await using var wave = await ServedAsync(blocking);
        var (inbox, frames, subject) = (wave.Inbox, wave.Frames, wave.Subject);
        var heads = NatsBatchingTests.HeadsPayload((1, NatsBatchingTests.Head("b1", 0, "2"), "block"), (2, NatsBatchingTests.Head("b2", 0, "2"), "after"));
        await frames.Connection.PublishAsync(subject, heads, NatsBatchingTests.HeadsHeaders(2), $"{inbox}.b1");
        Assert.True(blocking.Entered.Wait(Step), "the blocking handler never ran");

        // The connection carries on: a call of its own is served while the frame's first handler blocks its thread.
        Assert.Equal("alone"u8.ToArray(), Assert.Single(await wave.Harness.CallAsync(TransportHarness.Request(wave.Endpoint, wave.Instance, "alone"u8.ToArray()))));
        Assert.False(frames.TryNext(out var early), $"an answer of the blocked frame came early: {early}");

        // Released, the frame's requests are answered together.
        blocking.Release.Set();
        var answer = await frames.NextAsync(Step);
        Assert.Equal($"{inbox}.lasts", answer.Subject);
        Assert.Equal([(1UL, "block"), (2UL, "after")], ReadLasts(answer.Payload).OrderBy(a => a.Number));
    }

    [Fact(Timeout = 60_000)]
    public async Task CallersWokenByOneLastsFrame_SendTheirNextRequestsAsOneHeadsFrame()
    {
        await using var standIn = await StandInAsync("client");
        var (raw, requests, client, address, endpoint, instance) = (standIn.Raw, standIn.Requests, standIn.Client, standIn.Address, standIn.Endpoint, standIn.Instance);

        // Each caller makes a call, and as soon as its answer is read, a second one.
        var callers = Enumerable.Range(0, Requests).Select(caller => Task.Run(async () =>
        {
            var answers = new List<string>();
            for (var call = 0; call < 2; call++)
            {
                await using var stream = await client.SendAsync(address, TransportHarness.Request(endpoint, instance, Encoding.UTF8.GetBytes($"{caller}/{call}")), CancellationToken.None);
                while (await stream.MoveNextAsync())
                {
                    answers.Add(Encoding.UTF8.GetString(stream.Current.ToArray()));
                }
            }

            return answers;
        })).ToArray();

        // The first calls come as plain heads (the stand-in has not said it reads heads frames), in any grouping.
        var first = new List<(ulong Number, string Payload)>();
        string? inbox = null;
        while (first.Count < Requests)
        {
            var message = await requests.Msgs.ReadAsync().AsTask().WaitAsync(Step);
            Assert.False(message.Headers?.ContainsKey("Plexus-Frame") == true, "a heads frame before the server said it reads them");
            inbox = message.ReplyTo![..message.ReplyTo!.LastIndexOf('.')];
            first.Add((Number(message.ReplyTo), Encoding.UTF8.GetString(message.Data!)));
        }

        // One lasts frame answers them all and says the server reads heads frames.
        await raw.PublishAsync($"{inbox}.lasts", NatsBatchingTests.LastsPayload([.. first.Select(f => (f.Number, "answer " + f.Payload))]), LastsHeaders(Requests));

        // The callers it wakes send their second calls as one heads frame.
        var second = await requests.Msgs.ReadAsync().AsTask().WaitAsync(Step);
        Assert.Equal("heads", second.Headers?["Plexus-Frame"].ToString());
        Assert.Equal(Requests.ToString(CultureInfo.InvariantCulture), second.Headers?["Plexus-Count"].ToString());
        var heads = ReadHeads(second.Data!);
        Assert.Equal(Enumerable.Range(0, Requests).Select(c => $"{c}/1").Order(StringComparer.Ordinal), heads.Select(h => h.Payload).Order(StringComparer.Ordinal));

        await raw.PublishAsync($"{inbox}.lasts", NatsBatchingTests.LastsPayload([.. heads.Select(h => (h.Number, "answer " + h.Payload))]), LastsHeaders(Requests));
        var results = await Task.WhenAll(callers).WaitAsync(Step);
        for (var caller = 0; caller < Requests; caller++)
        {
            Assert.Equal([$"answer {caller}/0", $"answer {caller}/1"], results[caller]);
        }

        Assert.Equal(0, ((NatsClient)client).InFlight);
    }

    [Fact(Timeout = 60_000)]
    public async Task CallerWokenByALastsFrame_ThatBlocksOnANewCall_IsAnswered()
    {
        await using var standIn = await StandInAsync("blocking");
        var (raw, requests, client, address, endpoint, instance) = (standIn.Raw, standIn.Requests, standIn.Client, standIn.Address, standIn.Endpoint, standIn.Instance);

        // Two callers; once answered, the first makes a new call and blocks its thread until that is answered.
        var callers = Enumerable.Range(0, 2).Select(caller => Task.Run(async () =>
        {
            await using var stream = await client.SendAsync(address, TransportHarness.Request(endpoint, instance, Encoding.UTF8.GetBytes($"{caller}")), CancellationToken.None);
            Assert.True(await stream.MoveNextAsync());
            if (caller != 0)
            {
                return "done";
            }

            var nested = client.SendAsync(address, TransportHarness.Request(endpoint, instance, "nested"u8.ToArray()), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            try
            {
                var read = nested.MoveNextAsync().AsTask();
                Assert.True(read.Wait(Step), "the call made by a caller that blocks was never answered");
                return Encoding.UTF8.GetString(nested.Current.ToArray());
            }
            finally
            {
                await nested.DisposeAsync();
            }
        })).ToArray();

        var first = new List<(ulong Number, string Payload)>();
        string? inbox = null;
        while (first.Count < 2)
        {
            var message = await requests.Msgs.ReadAsync().AsTask().WaitAsync(Step);
            inbox = message.ReplyTo![..message.ReplyTo!.LastIndexOf('.')];
            first.Add((Number(message.ReplyTo), Encoding.UTF8.GetString(message.Data!)));
        }

        await raw.PublishAsync($"{inbox}.lasts", NatsBatchingTests.LastsPayload([.. first.Select(f => (f.Number, "answer " + f.Payload))]), LastsHeaders(2));

        // The nested call arrives (alone or in a heads frame) although the thread that made it is blocked.
        var nested = await requests.Msgs.ReadAsync().AsTask().WaitAsync(Step);
        var number = nested.Headers?.ContainsKey("Plexus-Frame") == true ? ReadHeads(nested.Data!).Single().Number : Number(nested.ReplyTo!);
        await raw.PublishAsync($"{inbox}.{number}", "answer nested"u8.ToArray(), new NatsHeaders { ["Plexus-Frame"] = "last", ["Plexus-Seq"] = "0" });
        Assert.Equal(["answer nested", "done"], await Task.WhenAll(callers).WaitAsync(Step));
    }

    private static NatsHeaders LastsHeaders(int count) =>
        new() { ["Plexus-Frame"] = "lasts", ["Plexus-Count"] = count.ToString(CultureInfo.InvariantCulture), ["Plexus-Batch"] = "1" };

    private static ulong Number(string replyTo) => ulong.Parse(replyTo.AsSpan(replyTo.LastIndexOf('.') + 1), CultureInfo.InvariantCulture);

    // Each answer: u64 number, u8 kind, u8 flags, u16 code, u32 length, the payload.
    private static List<(ulong Number, string Payload)> ReadLasts(byte[] payload)
    {
        var answers = new List<(ulong, string)>();
        for (var at = 0; at < payload.Length;)
        {
            Assert.Equal(1, payload[at + 8]);
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(at + 12));
            answers.Add((BinaryPrimitives.ReadUInt64BigEndian(payload.AsSpan(at)), Encoding.UTF8.GetString(payload, at + 16, length)));
            at += 16 + length;
        }

        return answers;
    }

    // Each head: u64 number, u32 header block length, u32 payload length, the block, the payload.
    private static List<(ulong Number, string Payload)> ReadHeads(byte[] payload)
    {
        var heads = new List<(ulong, string)>();
        for (var at = 0; at < payload.Length;)
        {
            var block = (int)BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(at + 8));
            var body = (int)BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(at + 12));
            heads.Add((BinaryPrimitives.ReadUInt64BigEndian(payload.AsSpan(at)), Encoding.UTF8.GetString(payload, at + 16 + block, body)));
            at += 16 + block + body;
        }

        return heads;
    }

    /// <summary>Echoes; blocks its thread (no await) on "block" until released.</summary>
    private sealed class BlockingHandler : IEndpointHandler, IDisposable
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            var payload = request.Payload.ToArray();
            if (Encoding.UTF8.GetString(payload) == "block")
            {
                Entered.Set();
                Release.Wait(TimeSpan.FromSeconds(30));
            }

            return responses.WriteMessageAsync(payload, request.RequestAborted);
        }

        public void Dispose()
        {
            Release.Set();
            Entered.Dispose();
            Release.Dispose();
        }
    }

    // A raw NATS connection standing in for a server (it sees every request to its server id), and a client.
    private async Task<StandIn> StandInAsync(string endpoint)
    {
        var serverId = TransportHarness.RandomServerId();
        var raw = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString(), Name = "stand-in" });
        await raw.ConnectAsync();
        var requests = await raw.SubscribeCoreAsync<byte[]>($"plexus.*.*.*.*.{serverId}");
        await raw.PingAsync();
        var client = new NatsTransportFactory(Options(), ArrayPool<byte>.Shared).CreateClient();
        var address = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus/{serverId}");
        return new StandIn(raw, requests, client, address, new EndpointAddress("tests", "wave", endpoint), InstanceId.NewId());
    }

    // A server serving one endpoint with handler, and a spy on a fresh inbox to send heads frames by hand from.
    private async Task<Served> ServedAsync(IEndpointHandler handler)
    {
        var inbox = "_INBOX.wave" + Guid.NewGuid().ToString("N");
        var frames = await NatsSpy.StartAsync(nats.Server.Url, inbox + ".>");
        var harness = await TransportHarness.StartAsync(Options());
        var target = NatsAddress.Parse(harness.Server.Address);
        var (endpoint, instance) = harness.Serve("wave", handler);
        return new Served(inbox, frames, harness, endpoint, instance, NatsAddress.RequestSubject(target.Prefix, endpoint, instance, target.ServerId));
    }

    private NatsTransportOptions Options() =>
        new() { Url = nats.Server.Url.ToString(), KeepAliveInterval = TimeSpan.FromSeconds(10) };

    private sealed record StandIn(NatsConnection Raw, INatsSub<byte[]> Requests, IRequestPlaneClient Client, Uri Address, EndpointAddress Endpoint, InstanceId Instance) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Requests.DisposeAsync();
            await Raw.DisposeAsync();
        }
    }

    private sealed record Served(string Inbox, NatsSpy Frames, TransportHarness Harness, EndpointAddress Endpoint, InstanceId Instance, string Subject) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Harness.DisposeAsync();
            await Frames.DisposeAsync();
        }
    }
}
