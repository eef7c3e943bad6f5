using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Plexus.Transport.Conformance;

/// <summary>
/// The request-plane semantics every transport honours, as tests. A transport's test project derives from this class,
/// says how to create its <see cref="ITransportFactory"/>, and overrides the hooks whose defaults do not fit; every
/// <c>[Fact]</c> here then runs against that transport.
/// </summary>
/// <remarks>
/// Each test gets a fresh factory, one started <see cref="Server"/> and one <see cref="Client"/>. Every wait is
/// bounded, so a transport that hangs fails a test instead of stopping the run. Servers may be disposed twice (after
/// <see cref="KillServerAsync"/> and again at the end of the test), so <c>DisposeAsync</c> must be idempotent.
/// </remarks>
public abstract class TransportConformanceTests : IAsyncLifetime
{
    /// <summary>How soon a cancellation must reach the handler's <see cref="RequestContext.RequestAborted"/>.</summary>
    protected static readonly TimeSpan CancellationReachesHandlerWithin = TimeSpan.FromMilliseconds(100);

    // How long to wait for a handler's token at all; the prompt-ness assertion itself uses the 100 ms bound.
    private static readonly TimeSpan AbortWait = TimeSpan.FromSeconds(5);

    private const int TestTimeoutMilliseconds = 60_000;
    private const int MiB = 1024 * 1024;

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly List<IRequestPlaneServer> _servers = [];
    private ITransportFactory? _factory;
    private IRequestPlaneServer? _server;
    private IRequestPlaneClient? _client;

    /// <summary>The transport under test.</summary>
    protected ITransportFactory Factory => _factory ?? throw new InvalidOperationException("The test has not been initialised.");

    /// <summary>A started server, fresh for each test.</summary>
    protected IRequestPlaneServer Server => _server ?? throw new InvalidOperationException("The test has not been initialised.");

    /// <summary>A client, fresh for each test.</summary>
    protected IRequestPlaneClient Client => _client ?? throw new InvalidOperationException("The test has not been initialised.");

    /// <summary>
    /// The most response bytes one request may have in flight: flushed by the handler (its
    /// <see cref="IResponseWriter.FlushAsync"/> completed) but not yet returned by the client's
    /// <see cref="IResponseStream.MoveNextAsync"/>. Include every buffer the transport keeps (queues, socket buffers).
    /// </summary>
    protected virtual long MaxBufferedBytes => 16L * MiB;

    /// <summary>The request payload limit the factory is configured with; one byte more must be refused.</summary>
    protected virtual long MaxPayloadBytes => 256L * MiB;

    /// <summary>The size of the large payload sent each way; must not exceed <see cref="MaxPayloadBytes"/>.</summary>
    protected virtual int LargePayloadBytes => 64 * MiB;

    /// <summary>How soon in-flight requests must fail after their server died (keep-alive detection included).</summary>
    protected virtual TimeSpan DeadPeerDetectedWithin => TimeSpan.FromSeconds(5);

    /// <summary>The bound on any single wait in a test; reaching it fails the test.</summary>
    protected virtual TimeSpan StepTimeout => TimeSpan.FromSeconds(30);

    /// <summary>How many requests the default misbehaving peer (<see cref="StartPeerThatNeverReadsAsync"/>) leaves unread.</summary>
    protected virtual int UnreadRequests => 256;

    /// <summary>How long a peer that writes without reading is given to grow the server's memory.</summary>
    protected virtual TimeSpan FloodDuration => TimeSpan.FromSeconds(6);

    /// <summary>
    /// The most the process's live managed memory (<see cref="GC.GetTotalMemory(bool)"/> after a full collection) may
    /// grow while a peer writes without reading. The peer runs in the test process, so this covers what it holds of
    /// its own as well as everything the server keeps for it.
    /// </summary>
    protected virtual long MaxMemoryGrowthUnderFlood => 64L * MiB;

    /// <summary>
    /// How far above where it started the process's live managed memory may stay once the misbehaving peer has gone:
    /// buffers kept in pools for reuse, which the pools bound, and nothing that grows with the flood.
    /// </summary>
    protected virtual long MaxMemoryLeftAfterFlood => 32L * MiB;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _factory = await CreateFactoryAsync();
        _server = await StartServerAsync();
        _client = Factory.CreateClient();
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().AsTask().WaitAsync(StepTimeout);
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync().AsTask().WaitAsync(StepTimeout);
        }

        if (_factory is not null)
        {
            await DisposeFactoryAsync(_factory);
        }
    }

    /// <summary>Creates the transport under test, configured with the limits the hooks declare.</summary>
    /// <returns>The factory.</returns>
    protected abstract ValueTask<ITransportFactory> CreateFactoryAsync();

    /// <summary>Releases what <see cref="CreateFactoryAsync"/> set up, such as an external broker.</summary>
    /// <param name="factory">The factory.</param>
    /// <returns>A task that completes when it is released.</returns>
    protected virtual ValueTask DisposeFactoryAsync(ITransportFactory factory) =>
        factory is IAsyncDisposable disposable ? disposable.DisposeAsync() : default;

    /// <summary>Kills a server abruptly, as a crashed process would die. Defaults to <c>DisposeAsync</c>.</summary>
    /// <param name="server">The server.</param>
    /// <returns>A task that completes when the server is dead.</returns>
    protected virtual ValueTask KillServerAsync(IRequestPlaneServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return server.DisposeAsync();
    }

    /// <summary>
    /// Starts a peer that writes to <paramref name="target"/> without ever reading; disposing the result stops it and
    /// lets go of everything it holds. The default uses a client of the transport under test: it sends
    /// <see cref="UnreadRequests"/> requests to an endpoint that streams forever and never reads a response. A
    /// transport overrides it to add the misbehaviour its own wire allows (raw sockets, another broker client…).
    /// </summary>
    /// <param name="target">The server and an endpoint of it that writes messages for as long as it is let.</param>
    /// <returns>The running peer.</returns>
    protected virtual async Task<IAsyncDisposable> StartPeerThatNeverReadsAsync(FloodTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var client = Factory.CreateClient();
        var unread = new List<IResponseStream>(UnreadRequests);
        try
        {
            for (var i = 0; i < UnreadRequests; i++)
            {
                unread.Add(await client.SendAsync(target.Address, NewRequest(target.Endpoint, target.Instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(StepTimeout));
            }
        }
        catch
        {
            await new UnreadStreams(client, unread).DisposeAsync();
            throw;
        }

        return new UnreadStreams(client, unread);
    }

    /// <summary>Creates and starts another server; it is disposed at the end of the test.</summary>
    /// <returns>The started server.</returns>
    protected async Task<IRequestPlaneServer> StartServerAsync()
    {
        var server = Factory.CreateServer();
        _servers.Add(server);
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(StepTimeout);
        return server;
    }

    [Fact]
    public void Server_AdvertisesAnAddressInTheTransportsScheme_AndBothSidesAreHealthy()
    {
        Assert.Equal(Factory.Name, Server.Address.Scheme, ignoreCase: true);
        Assert.Equal(HealthStatus.Healthy, Server.Health.Status);
        Assert.Equal(HealthStatus.Healthy, Client.Health.Status);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task UnaryEcho_ReturnsThePayloadAsOneMessage()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());
        var payload = "hello, plexus"u8.ToArray();

        var messages = await CallAsync(NewRequest(endpoint, instance, payload));

        Assert.Equal(payload, Assert.Single(messages));
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task CallersBuffer_IsFreeOnceSendAsyncCompletes()
    {
        await LeaveTestContext();

        var handler = new GatedHandler();
        var (endpoint, instance) = Serve(handler);
        var buffer = Pattern(64 * 1024, seed: 7);
        var original = buffer.ToArray();

        var stream = await SendAsync(NewRequest(endpoint, instance, buffer));
        await using (stream)
        {
            // The contract says the transport is done with the payload now: scribbling over it must change nothing.
            Array.Fill(buffer, (byte)0xEE);
            handler.Release();

            Assert.True(await MoveNextAsync(stream));
            Assert.Equal(original, stream.Current.ToArray());
            Assert.False(await MoveNextAsync(stream));
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task StreamOfTenThousandMessages_ArrivesCompleteAndInOrder()
    {
        await LeaveTestContext();

        const int Count = 10_000;
        var (endpoint, instance) = Serve(new CounterStreamHandler());
        var countPayload = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(countPayload, Count);

        var stream = await SendAsync(NewRequest(endpoint, instance, countPayload));
        var received = 0;
        await using (stream)
        {
            var message = new byte[4 + 16];
            while (await MoveNextAsync(stream))
            {
                var current = stream.Current;
                if (current.Length != CounterStreamHandler.MessageLength(received))
                {
                    Assert.Fail($"Message {received} is {current.Length} bytes; expected {CounterStreamHandler.MessageLength(received)}.");
                }

                current.CopyTo(message);
                var sequence = BinaryPrimitives.ReadInt32LittleEndian(message);
                if (sequence != received)
                {
                    Assert.Fail($"Message {received} carries sequence number {sequence}: messages were lost, repeated or reordered.");
                }

                for (var i = 4; i < current.Length; i++)
                {
                    if (message[i] != (byte)sequence)
                    {
                        Assert.Fail($"Message {received} has a wrong byte at offset {i}.");
                    }
                }

                received++;
            }
        }

        Assert.Equal(Count, received);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task EmptyPayload_IsEchoedAsOneEmptyMessage()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());

        var messages = await CallAsync(NewRequest(endpoint, instance, ReadOnlyMemory<byte>.Empty));

        Assert.Empty(Assert.Single(messages));
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task EmptyMessages_ArriveAsMessages_AndAStreamMayHaveNone()
    {
        await LeaveTestContext();

        var (emptyMessages, emptyInstance) = Serve(new EmptyMessagesHandler(), "empty-messages");
        var (silent, silentInstance) = Serve(new SilentHandler(), "silent");

        var messages = await CallAsync(NewRequest(emptyMessages, emptyInstance, "x"u8.ToArray()));
        var none = await CallAsync(NewRequest(silent, silentInstance, "x"u8.ToArray()));

        Assert.Equal(3, messages.Count);
        Assert.Empty(messages[0]);
        Assert.Equal([0x2A], messages[1]);
        Assert.Empty(messages[2]);
        Assert.Empty(none);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task CancellingTheSendToken_ReachesTheHandlerPromptly()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);
        using var cancellation = new CancellationTokenSource();

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()), cancellation.Token);
        await using (stream)
        {
            await ReadReadyAsync(stream, handler);
            var next = stream.MoveNextAsync().AsTask();

            var cancelledAt = Stopwatch.GetTimestamp();
            cancellation.Cancel();

            AssertPrompt(cancelledAt, await handler.AbortedAt.Task.WaitAsync(AbortWait));
            AssertCancelled(await Record(next));
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task CancellingTheMoveNextToken_ReachesTheHandlerPromptly()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);
        using var cancellation = new CancellationTokenSource();

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            await ReadReadyAsync(stream, handler);
            var next = stream.MoveNextAsync(cancellation.Token).AsTask();

            var cancelledAt = Stopwatch.GetTimestamp();
            cancellation.Cancel();

            AssertPrompt(cancelledAt, await handler.AbortedAt.Task.WaitAsync(AbortWait));
            AssertCancelled(await Record(next));
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task DisposingTheStreamBeforeItsEnd_ReachesTheHandlerPromptly()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await ReadReadyAsync(stream, handler);

        var disposedAt = Stopwatch.GetTimestamp();
        await stream.DisposeAsync().AsTask().WaitAsync(StepTimeout);

        AssertPrompt(disposedAt, await handler.AbortedAt.Task.WaitAsync(AbortWait));
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task DeadlineInThePast_FailsWithTimeout()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new BlockingHandler());

        var error = await CallExpectingFailureAsync(
            NewRequest(endpoint, instance, "x"u8.ToArray(), deadline: DateTimeOffset.UtcNow.AddSeconds(-1)));

        Assert.Equal(PlexusErrorCode.Timeout, error.Code);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task ShortDeadline_FiresTheHandlersToken_AndTheClientGetsTimeout()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);
        var deadline = DateTimeOffset.UtcNow.AddMilliseconds(500);

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray(), deadline: deadline));
        await using (stream)
        {
            // The "ready" message may or may not make it before the deadline on a busy machine; the end must be Timeout.
            var error = Assert.IsAssignableFrom<PlexusException>(await Record(ReadToEndAsync(stream)));
            Assert.Equal(PlexusErrorCode.Timeout, error.Code);

            var firedAt = await handler.AbortedAtWallClock.Task.WaitAsync(StepTimeout);
            Assert.True(
                firedAt >= deadline.AddMilliseconds(-50),
                $"The handler's token fired at {firedAt:O}, before the deadline {deadline:O}.");
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlerException_BecomesHandlerErrorWithItsMessage_AndTheConnectionSurvives()
    {
        await LeaveTestContext();

        var (failing, failingInstance) = Serve(new ThrowingHandler(new InvalidOperationException("the model ran out of tokens")), "failing");
        var (echo, echoInstance) = Serve(new EchoHandler(), "echo");

        var error = await CallExpectingFailureAsync(NewRequest(failing, failingInstance, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
        Assert.Contains("the model ran out of tokens", error.Message, StringComparison.Ordinal);
        Assert.False(error.BeforeFirstByte, "The handler ran, so the request must not be marked safe to retry elsewhere.");

        // Same client, same server: both endpoints still answer.
        Assert.Equal("still here"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(echo, echoInstance, "still here"u8.ToArray()))));
        Assert.Equal(PlexusErrorCode.HandlerError, (await CallExpectingFailureAsync(NewRequest(failing, failingInstance, "x"u8.ToArray()))).Code);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlerException_AfterMessages_DeliversTheMessagesFirst()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new ThrowingHandler(new InvalidOperationException("failed half way"), messagesBefore: 3));

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.True(await MoveNextAsync(stream));
                Assert.Equal(ThrowingHandler.MessageAt(i), stream.Current.ToArray());
            }

            var error = Assert.IsAssignableFrom<PlexusException>(await Record(stream.MoveNextAsync().AsTask()));
            Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
            Assert.Contains("failed half way", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlerThrowingPlexusException_KeepsItsCode()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new ThrowingHandler(new PlexusException(PlexusErrorCode.Overloaded, "12 requests queued; try later")));

        var error = await CallExpectingFailureAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.Overloaded, error.Code);
        Assert.Contains("12 requests queued; try later", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlersOwnRetryFlag_ReachesTheClient_OnlyWhileNothingWasSent()
    {
        await LeaveTestContext();

        // A handler may say "not me, try another instance" (BeforeFirstByte) as long as it has not answered.
        var refusing = new PlexusException(PlexusErrorCode.Overloaded, "queue full; try another instance") { BeforeFirstByte = true };
        var (before, beforeInstance) = Serve(new ThrowingHandler(refusing), "refuses-at-once");
        var (after, afterInstance) = Serve(new ThrowingHandler(refusing, messagesBefore: 1), "refuses-after-a-message");

        var error = await CallExpectingFailureAsync(NewRequest(before, beforeInstance, "x"u8.ToArray()));
        Assert.Equal(PlexusErrorCode.Overloaded, error.Code);
        Assert.True(error.BeforeFirstByte, "Nothing was sent: the handler's own retry flag must reach the client.");

        var stream = await SendAsync(NewRequest(after, afterInstance, "x"u8.ToArray()));
        await using (stream)
        {
            Assert.True(await MoveNextAsync(stream));
            var late = Assert.IsAssignableFrom<PlexusException>(await Record(stream.MoveNextAsync().AsTask()));
            Assert.Equal(PlexusErrorCode.Overloaded, late.Code);
            Assert.False(late.BeforeFirstByte, "A message was sent: retrying elsewhere would repeat it.");
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task UnknownEndpoint_IsUnavailableBeforeFirstByte()
    {
        await LeaveTestContext();

        var (_, instance) = Serve(new EchoHandler(), "echo");

        var error = await CallExpectingFailureAsync(NewRequest(NewEndpoint("not-registered"), instance, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task WrongInstanceId_IsUnavailableBeforeFirstByte()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());
        var other = new InstanceId(instance.Value ^ 0x5555);

        var error = await CallExpectingFailureAsync(NewRequest(endpoint, other, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task StoppedServer_IsUnavailableBeforeFirstByte()
    {
        await LeaveTestContext();

        var stopped = await StartServerAsync();
        var endpoint = NewEndpoint();
        var instance = InstanceId.NewId();
        stopped.Register(endpoint, instance, new EchoHandler());
        await stopped.DisposeAsync().AsTask().WaitAsync(StepTimeout);

        var error = await CallExpectingFailureAsync(NewRequest(endpoint, instance, "x"u8.ToArray()), stopped.Address);

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task LargePayload_EchoedAsAStreamOfChunks_ArrivesIntact()
    {
        await LeaveTestContext();

        const int Chunk = MiB;
        var (endpoint, instance) = Serve(new ChunkedEchoHandler(Chunk));
        var payload = Pattern(LargePayloadBytes, seed: 11);
        var expected = SHA256.HashData(payload);

        var stream = await SendAsync(NewRequest(endpoint, instance, payload));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        var messages = 0;
        await using (stream)
        {
            while (await MoveNextAsync(stream))
            {
                foreach (var segment in stream.Current)
                {
                    hash.AppendData(segment.Span);
                }

                total += stream.Current.Length;
                messages++;
            }
        }

        Assert.Equal(payload.LongLength, total);
        Assert.Equal((payload.Length + Chunk - 1) / Chunk, messages);
        Assert.Equal(expected, hash.GetHashAndReset());
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task LargePayload_EchoedAsOneMessage_ArrivesIntact()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());
        var payload = Pattern(LargePayloadBytes, seed: 13);
        var expected = SHA256.HashData(payload);

        var stream = await SendAsync(NewRequest(endpoint, instance, payload));
        await using (stream)
        {
            Assert.True(await MoveNextAsync(stream));
            Assert.Equal(payload.LongLength, stream.Current.Length);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var segment in stream.Current)
            {
                hash.AppendData(segment.Span);
            }

            Assert.Equal(expected, hash.GetHashAndReset());
            Assert.False(await MoveNextAsync(stream));
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task PayloadOverTheLimit_IsRefusedWithPayloadTooLarge_AndTheClientKeepsWorking()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());

        // One 1 MiB block repeated: the oversized payload costs the test almost nothing to offer.
        var oversized = RepeatedSegment.Sequence(new byte[MiB], MaxPayloadBytes + 1);
        var error = await CallExpectingFailureAsync(
            new OutgoingRequest(endpoint, instance, NewRequestId(), oversized, NoHeaders, Deadline: null));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Equal("fine"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(endpoint, instance, "fine"u8.ToArray()))));
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task ThousandConcurrentRequests_AllGetTheirOwnAnswer()
    {
        await LeaveTestContext();

        const int Count = 1000;
        var (endpoint, instance) = Serve(new EchoHandler());

        var calls = new Task[Count];
        for (var i = 0; i < Count; i++)
        {
            calls[i] = OneAsync(i);
        }

        await Task.WhenAll(calls).WaitAsync(StepTimeout);

        async Task OneAsync(int i)
        {
            var payload = Encoding.UTF8.GetBytes($"request {i} {new string('x', i % 97)}");
            var messages = await CallAsync(NewRequest(endpoint, instance, payload));
            Assert.Equal(payload, Assert.Single(messages));
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task SlowConsumer_BoundsWhatTheHandlerCanGetAhead()
    {
        await LeaveTestContext();

        const int MessageBytes = 16 * 1024;
        var handler = new SlowWriterHandler(MessageBytes);
        var (endpoint, instance) = Serve(handler);

        long read = 0;
        long worstGap = 0;
        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            for (var i = 0; i < 300; i++)
            {
                Assert.True(await MoveNextAsync(stream));
                read += stream.Current.Length;
                worstGap = Math.Max(worstGap, handler.Written - read);

                if (i % 100 == 50)
                {
                    // A long stall: a transport without back-pressure lets the handler run far ahead here.
                    await Task.Delay(250);
                    worstGap = Math.Max(worstGap, handler.Written - read);
                }
                else if (i % 10 == 0)
                {
                    await Task.Delay(1);
                }
            }
        }

        Assert.True(
            worstGap <= MaxBufferedBytes,
            $"The handler got {worstGap} bytes ahead of the client; the transport declares at most {MaxBufferedBytes}.");
        Assert.True(handler.Written >= read, $"The client read {read} bytes but the handler's flushes completed for only {handler.Written}.");

        // Disposing the stream stopped the handler: its flush failed or its token fired.
        var ended = await handler.Ended.Task.WaitAsync(StepTimeout);
        Assert.True(ended is PlexusException or OperationCanceledException, $"The handler ended with {ended.GetType()}: {ended.Message}");
    }

    [Fact(Timeout = 2 * TestTimeoutMilliseconds)]
    public async Task PeerThatWritesWithoutReading_KeepsServerMemoryBounded_AndOtherClientsAreServed()
    {
        await LeaveTestContext();

        var (flooded, floodedInstance) = Serve(new SlowWriterHandler(1024), "flooded");
        var (echo, echoInstance) = Serve(new EchoHandler(), "echo");
        var payload = Pattern(4096, seed: 17);

        // Both paths once before the baseline, so that what a first call sets up is not counted as growth.
        Assert.Equal(payload, Assert.Single(await CallAsync(NewRequest(echo, echoInstance, payload))));
        var baseline = LiveBytes();
        long worstGrowth = 0;
        var answered = 0;
        var peer = await StartPeerThatNeverReadsAsync(new FloodTarget(Server.Address, flooded, floodedInstance));
        try
        {
            var until = Stopwatch.GetTimestamp() + (long)(FloodDuration.TotalSeconds * Stopwatch.Frequency);
            var nextMeasure = 0L;
            while (Stopwatch.GetTimestamp() < until)
            {
                // Another client carries on: every call is answered, each within the step bound.
                Assert.Equal(payload, Assert.Single(await CallAsync(NewRequest(echo, echoInstance, payload))));
                answered++;
                if (Stopwatch.GetTimestamp() >= nextMeasure)
                {
                    worstGrowth = Math.Max(worstGrowth, LiveBytes() - baseline);
                    nextMeasure = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 2);
                }

                await Task.Delay(10);
            }

            worstGrowth = Math.Max(worstGrowth, LiveBytes() - baseline);
        }
        finally
        {
            await peer.DisposeAsync().AsTask().WaitAsync(StepTimeout);
        }

        Assert.True(
            worstGrowth <= MaxMemoryGrowthUnderFlood,
            $"Live memory grew by {worstGrowth / MiB} MiB while a peer wrote without reading; the transport declares at most {MaxMemoryGrowthUnderFlood / MiB} MiB.");
        Assert.True(answered >= 3, $"Only {answered} calls of another client were answered while a peer wrote without reading.");

        // Once the peer has gone, its memory comes back and the server still serves.
        Assert.Equal(payload, Assert.Single(await CallAsync(NewRequest(echo, echoInstance, payload))));
        var left = LiveBytes() - baseline;
        var giveUp = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        while (left > MaxMemoryLeftAfterFlood && Stopwatch.GetTimestamp() < giveUp)
        {
            await Task.Delay(200);
            left = LiveBytes() - baseline;
        }

        Assert.True(
            left <= MaxMemoryLeftAfterFlood,
            $"{left / MiB} MiB of live memory stayed after the peer that wrote without reading had gone; the transport declares at most {MaxMemoryLeftAfterFlood / MiB} MiB.");
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task Drain_RefusesNewRequests_FinishesInFlightOnes_ThenCompletes()
    {
        await LeaveTestContext();

        var gated = new GatedHandler();
        var (slow, slowInstance) = Serve(gated, "slow");
        var (echo, echoInstance) = Serve(new EchoHandler(), "echo");

        var stream = await SendAsync(NewRequest(slow, slowInstance, "in flight"u8.ToArray()));
        await using (stream)
        {
            await gated.Started.Task.WaitAsync(StepTimeout);
            var drain = Server.DrainAsync(CancellationToken.None).AsTask();

            var refused = await WaitUntilRefusedAsync(NewRequest(echo, echoInstance, "x"u8.ToArray()));
            Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
            Assert.True(refused.BeforeFirstByte, "A draining server never started the request: it is safe elsewhere.");
            Assert.False(drain.IsCompleted, "The drain completed while a request was still in flight.");

            gated.Release();
            Assert.True(await MoveNextAsync(stream));
            Assert.Equal("in flight"u8.ToArray(), stream.Current.ToArray());
            Assert.False(await MoveNextAsync(stream));

            await drain.WaitAsync(StepTimeout);
        }

        var afterwards = await CallExpectingFailureAsync(NewRequest(echo, echoInstance, "x"u8.ToArray()));
        Assert.Equal(PlexusErrorCode.Unavailable, afterwards.Code);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task Drain_WhenItsTokenFires_AbortsWhatIsStillInFlight()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            await ReadReadyAsync(stream, handler);
            using var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            try
            {
                await Server.DrainAsync(grace.Token).AsTask().WaitAsync(StepTimeout);
            }
            catch (OperationCanceledException) when (grace.IsCancellationRequested)
            {
                // Reporting the expired grace period as a cancellation is acceptable; the server must be closed either way.
            }

            await handler.AbortedAt.Task.WaitAsync(AbortWait);
            var error = Assert.IsAssignableFrom<PlexusException>(await Record(stream.MoveNextAsync().AsTask()));
            Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        }
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task KilledServer_FailsInFlightRequestsWithUnavailable_Promptly()
    {
        await LeaveTestContext();

        var blocking = new BlockingHandler();
        var writer = new SlowWriterHandler(4096);
        var (quiet, quietInstance) = Serve(blocking, "quiet");
        var (busy, busyInstance) = Serve(writer, "busy");

        var waiting = await SendAsync(NewRequest(quiet, quietInstance, "x"u8.ToArray()));
        var streaming = await SendAsync(NewRequest(busy, busyInstance, "x"u8.ToArray()));
        await using (waiting)
        await using (streaming)
        {
            await ReadReadyAsync(waiting, blocking);
            Assert.True(await MoveNextAsync(streaming));
            var pending = waiting.MoveNextAsync().AsTask();

            await KillServerAsync(Server).AsTask().WaitAsync(StepTimeout);

            var first = Assert.IsAssignableFrom<PlexusException>(await Record(pending, DeadPeerDetectedWithin));
            Assert.Equal(PlexusErrorCode.Unavailable, first.Code);

            // What was already on its way may still arrive, but the stream must then fail, not hang or end cleanly.
            var second = Assert.IsAssignableFrom<PlexusException>(await Record(ReadToEndAsync(streaming), DeadPeerDetectedWithin));
            Assert.Equal(PlexusErrorCode.Unavailable, second.Code);
        }

        var afterwards = await CallExpectingFailureAsync(NewRequest(quiet, quietInstance, "x"u8.ToArray()));
        Assert.Equal(PlexusErrorCode.Unavailable, afterwards.Code);
        Assert.True(afterwards.BeforeFirstByte);
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task TwoEndpointsOnOneServer_EachReachesItsOwnHandler()
    {
        await LeaveTestContext();

        var (alpha, alphaInstance) = Serve(new FixedReplyHandler("alpha"u8.ToArray()), "alpha");
        var (beta, betaInstance) = Serve(new FixedReplyHandler("beta"u8.ToArray()), "beta");

        Assert.Equal("alpha"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(alpha, alphaInstance, "x"u8.ToArray()))));
        Assert.Equal("beta"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(beta, betaInstance, "x"u8.ToArray()))));
        Assert.Throws<InvalidOperationException>(() => Server.Register(alpha, InstanceId.NewId(), new EchoHandler()));
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task Unregister_RefusesNewRequests_LetsInFlightOnesFinish_AndAllowsRegisteringAgain()
    {
        await LeaveTestContext();

        var gated = new GatedHandler();
        var (endpoint, instance) = Serve(gated);

        var stream = await SendAsync(NewRequest(endpoint, instance, "in flight"u8.ToArray()));
        await using (stream)
        {
            await gated.Started.Task.WaitAsync(StepTimeout);

            Assert.True(Server.Unregister(endpoint));
            Assert.False(Server.Unregister(endpoint));
            var refused = await CallExpectingFailureAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
            Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
            Assert.True(refused.BeforeFirstByte);

            gated.Release();
            Assert.True(await MoveNextAsync(stream));
            Assert.Equal("in flight"u8.ToArray(), stream.Current.ToArray());
            Assert.False(await MoveNextAsync(stream));
        }

        Server.Register(endpoint, instance, new EchoHandler());
        Assert.Equal("back"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(endpoint, instance, "back"u8.ToArray()))));
    }

    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task RequestContext_CarriesEndpointRequestIdHeadersDeadlineAndPayloadIntact()
    {
        await LeaveTestContext();

        var withAll = new CapturingHandler();
        var withNothing = new CapturingHandler();
        var (full, fullInstance) = Serve(withAll, "full");
        var (bare, bareInstance) = Serve(withNothing, "bare");
        var headers = new Dictionary<string, string>
        {
            [PlexusHeaders.TraceParent] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            [PlexusHeaders.TraceState] = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
            ["x-tenant"] = "acme",
            ["x-empty"] = string.Empty,
            ["x-unicode"] = "naïve ✓ 日本",
        };
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);
        var requestId = $"req-{Guid.NewGuid():N}";
        var payload = Pattern(1000, seed: 3);

        Assert.Empty(await CallAsync(new OutgoingRequest(full, fullInstance, requestId, new ReadOnlySequence<byte>(payload), headers, deadline)));
        Assert.Empty(await CallAsync(new OutgoingRequest(bare, bareInstance, "bare-request", ReadOnlySequence<byte>.Empty, NoHeaders, Deadline: null)));

        var seen = await withAll.Seen.Task.WaitAsync(StepTimeout);
        Assert.Equal(full, seen.Endpoint);
        Assert.Equal(requestId, seen.RequestId);
        Assert.Equal(payload, seen.Payload);
        foreach (var (name, value) in headers)
        {
            Assert.True(seen.Headers.TryGetValue(name, out var arrived), $"Header '{name}' did not arrive.");
            Assert.Equal(value, arrived);
        }

        Assert.NotNull(seen.Deadline);
        Assert.True(
            (seen.Deadline.Value - deadline).Duration() <= TimeSpan.FromMilliseconds(1),
            $"The deadline arrived as {seen.Deadline:O}; it was sent as {deadline:O}.");
        Assert.False(seen.AbortedOnArrival);

        var bareSeen = await withNothing.Seen.Task.WaitAsync(StepTimeout);
        Assert.Equal("bare-request", bareSeen.RequestId);
        Assert.Null(bareSeen.Deadline);
        Assert.Empty(bareSeen.Payload);
    }

    /// <summary>
    /// Moves the rest of a test onto the thread pool. xunit's synchronization context starts a new thread for every
    /// continuation posted to it; on a busy machine those thread starts hold the pool threads the transport needs and
    /// delay its frames, which the prompt-cancellation bounds would count against the transport.
    /// </summary>
    /// <returns>An awaitable that always yields, and not to the captured context.</returns>
    protected static ConfiguredTaskAwaitable LeaveTestContext() => Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

    /// <summary>A fresh endpoint address in the kit's namespace.</summary>
    /// <param name="name">The endpoint segment.</param>
    /// <returns>The address.</returns>
    protected static EndpointAddress NewEndpoint(string name = "echo") => new("conformance", "kit", name);

    /// <summary>A request id unique to this run.</summary>
    /// <returns>The id.</returns>
    protected static string NewRequestId() => Guid.NewGuid().ToString("N");

    /// <summary>Builds a request.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance id.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="deadline">The deadline, if any.</param>
    /// <returns>The request.</returns>
    protected static OutgoingRequest NewRequest(EndpointAddress endpoint, InstanceId instance, ReadOnlyMemory<byte> payload, DateTimeOffset? deadline = null) =>
        new(endpoint, instance, NewRequestId(), new ReadOnlySequence<byte>(payload), NoHeaders, deadline);

    /// <summary>Sends a request to <see cref="Server"/> (or <paramref name="address"/>) and reads every message.</summary>
    /// <param name="request">The request.</param>
    /// <param name="address">Where to send it; <see cref="Server"/>'s address by default.</param>
    /// <returns>The messages, copied.</returns>
    protected async Task<List<byte[]>> CallAsync(OutgoingRequest request, Uri? address = null)
    {
        var messages = new List<byte[]>();
        var stream = await SendAsync(request, CancellationToken.None, address);
        await using (stream)
        {
            while (await MoveNextAsync(stream))
            {
                messages.Add(stream.Current.ToArray());
            }
        }

        return messages;
    }

    /// <summary>Calls and expects the request to fail, when sending or while reading.</summary>
    /// <param name="request">The request.</param>
    /// <param name="address">Where to send it; <see cref="Server"/>'s address by default.</param>
    /// <returns>The failure.</returns>
    protected async Task<PlexusException> CallExpectingFailureAsync(OutgoingRequest request, Uri? address = null) =>
        await Assert.ThrowsAnyAsync<PlexusException>(() => CallAsync(request, address));

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(length);
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    // Live bytes after a full, compacting collection: what the process really holds, whatever the allocation pattern.
    private static long LiveBytes() => GC.GetTotalMemory(forceFullCollection: true);

    private static void AssertPrompt(long cancelledAt, long abortedAt)
    {
        var elapsed = Stopwatch.GetElapsedTime(cancelledAt, abortedAt);
        Assert.True(
            elapsed <= CancellationReachesHandlerWithin,
            $"The handler's RequestAborted fired {elapsed.TotalMilliseconds:F1} ms after the client cancelled; the bound is {CancellationReachesHandlerWithin.TotalMilliseconds} ms.");
    }

    private static void AssertCancelled(Exception? exception) =>
        Assert.True(
            exception is OperationCanceledException or PlexusException { Code: PlexusErrorCode.Cancelled },
            $"Expected an OperationCanceledException or a Cancelled PlexusException; got {exception?.GetType().Name ?? "no exception"}: {exception?.Message}");

    private (EndpointAddress Endpoint, InstanceId Instance) Serve(IEndpointHandler handler, string name = "echo")
    {
        var endpoint = NewEndpoint(name);
        var instance = InstanceId.NewId();
        Server.Register(endpoint, instance, handler);
        return (endpoint, instance);
    }

    private Task<IResponseStream> SendAsync(OutgoingRequest request, CancellationToken cancellationToken = default, Uri? address = null) =>
        Client.SendAsync(address ?? Server.Address, request, cancellationToken).AsTask().WaitAsync(StepTimeout);

    private Task<bool> MoveNextAsync(IResponseStream stream) => stream.MoveNextAsync().AsTask().WaitAsync(StepTimeout);

    private static async Task ReadToEndAsync(IResponseStream stream)
    {
        while (await stream.MoveNextAsync())
        {
        }
    }

    private async Task ReadReadyAsync(IResponseStream stream, BlockingHandler handler)
    {
        Assert.True(await MoveNextAsync(stream));
        Assert.Equal(BlockingHandler.Ready.ToArray(), stream.Current.ToArray());
        await handler.Started.Task.WaitAsync(StepTimeout);
    }

    // The exception a task ends with (a hang fails with TimeoutException, which no assertion accepts).
    private async Task<Exception?> Record(Task task, TimeSpan? within = null)
    {
        try
        {
            await task.WaitAsync(within ?? StepTimeout);
            return null;
        }
        catch (Exception exception) when (exception is not TimeoutException)
        {
            return exception;
        }
    }

    private async Task<PlexusException> WaitUntilRefusedAsync(OutgoingRequest probe)
    {
        // A transport may take a moment to stop accepting after DrainAsync was called; it must not take long.
        var giveUp = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                await CallAsync(probe with { RequestId = NewRequestId() });
            }
            catch (PlexusException refused)
            {
                return refused;
            }

            Assert.True(Stopwatch.GetTimestamp() < giveUp, "The draining server kept accepting new requests.");
            await Task.Delay(10);
        }
    }
}
