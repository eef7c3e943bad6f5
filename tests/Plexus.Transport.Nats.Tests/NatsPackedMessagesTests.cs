using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// Small response messages travel packed, several to a NATS message (<c>msgs</c> frames), to clients that announce
/// <c>Plexus-Packed</c>; older clients get one <c>data</c> frame per message as before. A client checks each packed
/// frame whole: a malformed one fails only its own stream, after the messages of earlier frames.
/// </summary>
public sealed class NatsPackedMessagesTests(NatsServerFixture nats) : IClassFixture<NatsServerFixture>
{
    private static TimeSpan Step => TransportHarness.Step;

    [Fact(Timeout = 60_000)]
    public async Task StreamOfSmallMessages_ArrivesWholeAndInOrder_InFewerNatsMessagesThanMessages()
    {
        const int Count = 10_000;
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, "_INBOX.>");
        await using var harness = await TransportHarness.StartAsync(Options());
        var (endpoint, instance) = harness.Serve("packed", new CountingHandler(Count, flushEach: true));

        var stream = (NatsResponseStream)await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        var read = 0;
        await using (stream)
        {
            while (await stream.MoveNextAsync().AsTask().WaitAsync(Step))
            {
                Assert.Equal(read, BinaryPrimitives.ReadInt32BigEndian(stream.Current.ToArray()));
                read++;
            }
        }

        Assert.Equal(Count, read);
        var kinds = await FramesOfAsync(frames, stream.Inbox);
        Assert.Contains("msgs", kinds);
        Assert.True(kinds.Count < Count / 10, $"{Count} messages took {kinds.Count} NATS messages: {string.Join(' ', kinds.Take(20))}");
        Assert.DoesNotContain("part", kinds);
    }

    [Fact(Timeout = 60_000)]
    public async Task UnaryCall_IsStillOneNatsMessageEachWay()
    {
        await using var requests = await NatsSpy.StartAsync(nats.Server.Url, "plexus.>");
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, "_INBOX.>");
        await using var harness = await TransportHarness.StartAsync(Options());
        var (endpoint, instance) = harness.Serve("packed", new EchoHandler());

        Assert.Equal("hello"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "hello"u8.ToArray()))));

        var head = await requests.NextAsync();
        Assert.Equal("2", head.Headers["Plexus-Packed"]);
        var answer = await frames.NextAsync();
        Assert.Equal("last", answer.Headers["Plexus-Frame"]);
        Assert.Equal("hello", answer.Text);
        await requests.Connection.PingAsync();
        await frames.Connection.PingAsync();
        Assert.False(requests.TryNext(out var more), $"a second message to the server: {more?.Subject} {more?.Headers.GetValueOrDefault("Plexus-Frame")}");
        Assert.False(frames.TryNext(out more), $"a second frame: {more?.Headers.GetValueOrDefault("Plexus-Frame")}");
    }

    [Fact(Timeout = 60_000)]
    public async Task MixedSmallAndLargeMessages_KeepTheirOrder()
    {
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, "_INBOX.>");
        await using var harness = await TransportHarness.StartAsync(Options());

        // Around the packing limit (4,096 bytes with the length), empty ones, and one chunked past max_payload.
        int[] sizes = [16, 0, 4092, 4093, 3, 5000, 16, 16, 0, 1_500_000, 7, 4091, 100_000, 1, 2, 3, .. Enumerable.Repeat(16, 200), 4092];
        var handler = new SizesHandler(sizes);
        var (endpoint, instance) = harness.Serve("packed", handler);

        var stream = (NatsResponseStream)await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        var messages = new List<byte[]>();
        await using (stream)
        {
            while (await stream.MoveNextAsync().AsTask().WaitAsync(Step))
            {
                messages.Add(stream.Current.ToArray());
            }
        }

        Assert.Equal(sizes.Length * 2, messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            Assert.Equal(SizesHandler.Message(i, sizes[i % sizes.Length]), messages[i]);
        }

        var kinds = await FramesOfAsync(frames, stream.Inbox);
        Assert.Contains("msgs", kinds);
        Assert.Contains("part", kinds);
        Assert.Contains("data", kinds);
    }

    [Fact(Timeout = 60_000)]
    public async Task MessageFlushedBeforeAnAwait_LaterInTheStream_ArrivesWhileTheHandlerWaits()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var handler = new PacedHandler();
        var (endpoint, instance) = harness.Serve("packed", handler);

        await using var stream = await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);

        // Every message must arrive while the handler waits for the test: none may wait for the next flush or the end.
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
            Assert.Equal($"token {i}", Encoding.UTF8.GetString(stream.Current.ToArray()));
            handler.Next(i);
        }

        Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HeadWithoutThePackedAnnouncement_GetsDataFramesOnly(bool announce)
    {
        const int Count = 1000;
        var inbox = "_INBOX.packedtest" + Guid.NewGuid().ToString("N") + ".1";
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, inbox);
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var target = NatsAddress.Parse(server.Address);
        var (endpoint, instance) = harness.Serve("packed", new CountingHandler(Count, flushEach: true));

        // A head as a client from before packed frames writes it, or with the announcement added by hand.
        var head = new NatsHeaders
        {
            ["Plexus-Request-Id"] = "r1",
            ["Plexus-Window"] = "1048576",
            ["Plexus-Keepalive"] = "10000",
            ["Plexus-Length"] = "1",
        };
        if (announce)
        {
            head["Plexus-Packed"] = "1";
        }

        await frames.Connection.PublishAsync(NatsAddress.RequestSubject(target.Prefix, endpoint, instance, target.ServerId), "x"u8.ToArray(), head, inbox);

        var kinds = new List<string>();
        var messages = 0;
        while (true)
        {
            var frame = await frames.NextAsync(Step);
            var kind = frame.Headers["Plexus-Frame"];
            Assert.Equal(kinds.Count.ToString(CultureInfo.InvariantCulture), frame.Headers["Plexus-Seq"]);
            kinds.Add(kind);
            foreach (var message in Unpack(kind, frame))
            {
                Assert.Equal(messages++, BinaryPrimitives.ReadInt32BigEndian(message));
            }

            if (kind is "end" or "last" or "msgs-last" or "error")
            {
                break;
            }
        }

        Assert.Equal(Count, messages);
        if (announce)
        {
            Assert.Contains(kinds, kind => kind.StartsWith("msgs", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(Count + 1, kinds.Count);
            Assert.All(kinds.Take(Count), kind => Assert.Equal("data", kind));
            Assert.Equal("end", kinds[^1]);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("count0", "Plexus-Count is 0")]
    [InlineData("nocount", "no Plexus-Count")]
    [InlineData("toomany", "cannot fit")]
    [InlineData("overrun", "only 2 bytes of the payload follow")]
    [InlineData("cutlength", "no room for its length")]
    [InlineData("trailing", "3 bytes follow the 2 messages")]
    [InlineData("duringpart", "chunked message was incomplete")]
    public async Task MalformedMsgsFrame_FailsOnlyItsStream_AfterTheEarlierMessages_AndTellsTheServer(string malformation, string expected)
    {
        var serverId = TransportHarness.RandomServerId();
        await using var raw = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString(), Name = "stand-in" });
        await raw.ConnectAsync();
        await using var heads = await raw.SubscribeCoreAsync<byte[]>($"plexus.*.*.*.*.{serverId}");
        await using var control = await raw.SubscribeCoreAsync<byte[]>($"plexus._ctl.{serverId}");
        await raw.PingAsync();
        var good = new EndpointAddress("tests", "packed", "good");
        var bad = new EndpointAddress("tests", "packed", malformation);
        var instance = InstanceId.NewId();
        var badInbox = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        // A stand-in server: both streams get a well-formed packed frame first; the bad one then gets the malformation,
        // the good one the rest of its messages and the end.
        var standIn = Task.Run(async () =>
        {
            for (var i = 0; i < 2; i++)
            {
                var head = await heads.Msgs.ReadAsync();
                Assert.Equal("2", head.Headers?["Plexus-Packed"].ToString());
                var replyTo = head.ReplyTo!;
                await raw.PublishAsync(replyTo, Pack("a", "b"), Frame("msgs", 0, count: 2));
                if (head.Subject.Contains($".{malformation}.", StringComparison.Ordinal))
                {
                    await SendMalformedAsync(raw, replyTo, malformation);
                    badInbox.SetResult(replyTo);
                }
                else
                {
                    await raw.PublishAsync(replyTo, Pack("c", string.Empty, "d"), Frame("msgs-last", 1, count: 3));
                }
            }
        });
        await using var client = new NatsTransportFactory(Options(), ArrayPool<byte>.Shared).CreateClient();
        var address = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus/{serverId}");

        var badStream = await client.SendAsync(address, TransportHarness.Request(bad, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        var goodStream = await client.SendAsync(address, TransportHarness.Request(good, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        await standIn.WaitAsync(Step);
        await using (badStream)
        {
            var (delivered, error) = await ReadToErrorAsync(badStream);
            Assert.Equal(new[] { "a", "b" }, delivered);
            var failure = Assert.IsType<PlexusException>(error);
            Assert.Equal(PlexusErrorCode.ProtocolError, failure.Code);
            Assert.Contains("msgs frame", failure.Message, StringComparison.Ordinal);
            Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        }

        // The server was told to stop that stream.
        var stopped = await badInbox.Task;
        while (true)
        {
            var frame = await control.Msgs.ReadAsync().AsTask().WaitAsync(Step);
            if (frame.ReplyTo == stopped && frame.Headers?["Plexus-Frame"].ToString() == "cancel")
            {
                break;
            }
        }

        // The other stream on the same client and connection carries on to its end.
        await using (goodStream)
        {
            var messages = new List<string>();
            while (await goodStream.MoveNextAsync().AsTask().WaitAsync(Step))
            {
                messages.Add(Encoding.UTF8.GetString(goodStream.Current.ToArray()));
            }

            Assert.Equal(new[] { "a", "b", "c", string.Empty, "d" }, messages);
        }

        Assert.Equal(0, ((NatsClient)client).InFlight);
    }

    [Fact(Timeout = 60_000)]
    public async Task PackedMessageOverTheClientsLimit_FailsWithPayloadTooLarge()
    {
        var serverId = TransportHarness.RandomServerId();
        await using var raw = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString(), Name = "stand-in" });
        await raw.ConnectAsync();
        await using var heads = await raw.SubscribeCoreAsync<byte[]>($"plexus.*.*.*.*.{serverId}");
        await raw.PingAsync();
        var standIn = Task.Run(async () =>
        {
            var head = await heads.Msgs.ReadAsync();
            await raw.PublishAsync(head.ReplyTo!, Pack("ok", new string('x', 200)), Frame("msgs-last", 0, count: 2));
        });
        await using var client = new NatsTransportFactory(Options(o => o.MaxPayloadBytes = 100), ArrayPool<byte>.Shared).CreateClient();
        var address = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus/{serverId}");

        await using var stream = await client.SendAsync(address, TransportHarness.Request(new EndpointAddress("tests", "packed", "large"), InstanceId.NewId(), "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        await standIn.WaitAsync(Step);

        var error = await Assert.ThrowsAsync<PlexusException>(() => stream.MoveNextAsync().AsTask().WaitAsync(Step));
        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task SlowReaderOfSmallMessages_StopsTheHandler_WithinTheWindow()
    {
        const long Window = 64 * 1024;
        const int MessageBytes = 100;
        await using var harness = await TransportHarness.StartAsync(Options(o => o.WindowBytes = Window));
        var handler = new EndlessHandler(MessageBytes);
        var (endpoint, instance) = harness.Serve("packed", handler);

        // Each message costs its bytes plus 64 against the window; the handler may be ahead by the window, the grant
        // not yet sent (a quarter window), and the credit of packed messages counted late (a sixteenth).
        var bound = ((Window + (Window / 4) + (Window / 16)) / (MessageBytes + 64)) + 2;
        long read = 0;
        long worst = 0;
        var stream = await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        await using (stream)
        {
            for (var i = 0; i < 3000; i++)
            {
                Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
                Assert.Equal(read, BinaryPrimitives.ReadInt64BigEndian(stream.Current.FirstSpan));
                read++;
                if (i % 1000 == 500)
                {
                    // A stall: without credit the handler would run far ahead here.
                    await Task.Delay(300);
                }

                worst = Math.Max(worst, Volatile.Read(ref handler.Written) - read);
            }
        }

        Assert.True(worst <= bound, $"The handler got {worst} messages ahead of the reader; the window allows {bound}.");
        Assert.True(worst > bound / 4, $"The handler got only {worst} messages ahead: the window was not used.");
        var ended = await handler.Ended.Task.WaitAsync(Step);
        Assert.True(ended is PlexusException or OperationCanceledException, $"The handler ended with {ended.GetType()}: {ended.Message}");
    }

    private static async Task SendMalformedAsync(NatsConnection raw, string replyTo, string malformation)
    {
        switch (malformation)
        {
            case "count0":
                await raw.PublishAsync(replyTo, Pack("x"), Frame("msgs", 1, count: 0));
                break;
            case "nocount":
                await raw.PublishAsync(replyTo, Pack("x"), Frame("msgs", 1, count: -1));
                break;
            case "toomany":
                await raw.PublishAsync(replyTo, Pack("x", "y"), Frame("msgs", 1, count: 1000));
                break;
            case "overrun":
                var overrun = Pack("x", "yy");
                BinaryPrimitives.WriteUInt32BigEndian(overrun.AsSpan(5), 3);
                await raw.PublishAsync(replyTo, overrun, Frame("msgs", 1, count: 2));
                break;
            case "cutlength":
                await raw.PublishAsync(replyTo, Pack("xyz", "w").Concat(new byte[] { 0, 0 }).ToArray(), Frame("msgs", 1, count: 3));
                break;
            case "trailing":
                await raw.PublishAsync(replyTo, Pack("x", "y").Concat(new byte[] { 1, 2, 3 }).ToArray(), Frame("msgs", 1, count: 2));
                break;
            default:
                var part = new NatsHeaders { ["Plexus-Frame"] = "part", ["Plexus-Seq"] = "1", ["Plexus-Length"] = "100" };
                await raw.PublishAsync(replyTo, new byte[50], part);
                await raw.PublishAsync(replyTo, Pack("x", "y"), Frame("msgs", 2, count: 2));
                break;
        }
    }

    private static async Task<(List<string> Messages, Exception? Error)> ReadToErrorAsync(IResponseStream stream)
    {
        var messages = new List<string>();
        try
        {
            while (await stream.MoveNextAsync().AsTask().WaitAsync(Step))
            {
                messages.Add(Encoding.UTF8.GetString(stream.Current.ToArray()));
            }

            return (messages, null);
        }
        catch (PlexusException exception)
        {
            return (messages, exception);
        }
    }

    // The frames nats-server delivered to one reply subject, in order, up to and including the stream's end.
    private static async Task<List<string>> FramesOfAsync(NatsSpy frames, string inbox)
    {
        await frames.Connection.PingAsync();
        var kinds = new List<string>();
        while (true)
        {
            var frame = await frames.NextAsync(Step);
            if (frame.Subject != inbox)
            {
                continue;
            }

            var kind = frame.Headers["Plexus-Frame"];
            Assert.Equal(kinds.Count.ToString(CultureInfo.InvariantCulture), frame.Headers["Plexus-Seq"]);
            kinds.Add(kind);
            if (kind is "end" or "last" or "msgs-last" or "error")
            {
                return kinds;
            }
        }
    }

    private static IEnumerable<byte[]> Unpack(string kind, NatsSpy.Received frame)
    {
        if (kind is "data" or "last")
        {
            yield return frame.Payload;
        }
        else if (kind is "msgs" or "msgs-last")
        {
            var count = int.Parse(frame.Headers["Plexus-Count"], CultureInfo.InvariantCulture);
            var offset = 0;
            for (var i = 0; i < count; i++)
            {
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(offset));
                yield return frame.Payload.AsSpan(offset + 4, length).ToArray();
                offset += 4 + length;
            }

            Assert.Equal(frame.Payload.Length, offset);
        }
    }

    private static byte[] Pack(params string[] messages)
    {
        var packed = new List<byte>();
        foreach (var message in messages)
        {
            var bytes = Encoding.UTF8.GetBytes(message);
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)bytes.Length);
            packed.AddRange(length);
            packed.AddRange(bytes);
        }

        return [.. packed];
    }

    private static NatsHeaders Frame(string kind, int seq, int count)
    {
        var headers = new NatsHeaders { ["Plexus-Frame"] = kind, ["Plexus-Seq"] = seq.ToString(CultureInfo.InvariantCulture) };
        if (count >= 0)
        {
            headers["Plexus-Count"] = count.ToString(CultureInfo.InvariantCulture);
        }

        return headers;
    }

    private NatsTransportOptions Options(Action<NatsTransportOptions>? change = null)
    {
        var options = new NatsTransportOptions { Url = nats.Server.Url.ToString(), KeepAliveInterval = TimeSpan.FromMilliseconds(500) };
        change?.Invoke(options);
        return options;
    }

    /// <summary>Writes the numbers 0 … count-1 as 4-byte messages, flushing each or all at the end.</summary>
    private sealed class CountingHandler(int count, bool flushEach) : IEndpointHandler
    {
        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            for (var i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteInt32BigEndian(responses.GetSpan(4), i);
                responses.Advance(4);
                responses.EndMessage();
                if (flushEach)
                {
                    await responses.FlushAsync(request.RequestAborted);
                }
            }
        }
    }

    /// <summary>Writes the sizes twice over, each message filled from its index; some flushed together.</summary>
    private sealed class SizesHandler(int[] sizes) : IEndpointHandler
    {
        public static byte[] Message(int index, int size)
        {
            var message = new byte[size];
            for (var i = 0; i < size; i++)
            {
                message[i] = (byte)(index + i);
            }

            return message;
        }

        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            for (var i = 0; i < sizes.Length * 2; i++)
            {
                responses.WriteMessage(Message(i, sizes[i % sizes.Length]));
                if (i % 3 != 1)
                {
                    await responses.FlushAsync(request.RequestAborted);
                }
            }
        }
    }

    /// <summary>Writes a token, then waits for the test before the next one.</summary>
    private sealed class PacedHandler : IEndpointHandler
    {
        private readonly TaskCompletionSource[] _steps = [new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously)];

        public void Next(int step) => _steps[step].SetResult();

        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            for (var i = 0; i < _steps.Length; i++)
            {
                responses.WriteMessage(Encoding.UTF8.GetBytes($"token {i}"));
                await responses.FlushAsync(request.RequestAborted);
                await _steps[i].Task.WaitAsync(request.RequestAborted);
            }
        }
    }

    /// <summary>Writes numbered messages of a fixed size until it is stopped, counting the flushes that completed.</summary>
    private sealed class EndlessHandler(int size) : IEndpointHandler
    {
        public long Written;

        public TaskCompletionSource<Exception> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            try
            {
                for (long i = 0; ; i++)
                {
                    var span = responses.GetSpan(size)[..size];
                    span.Clear();
                    BinaryPrimitives.WriteInt64BigEndian(span, i);
                    responses.Advance(size);
                    responses.EndMessage();
                    await responses.FlushAsync(request.RequestAborted);
                    Interlocked.Increment(ref Written);
                }
            }
            catch (Exception exception)
            {
                Ended.TrySetResult(exception);
                throw;
            }
        }
    }
}
