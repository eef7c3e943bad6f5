using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

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
public abstract partial class TransportConformanceTests : IAsyncLifetime
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

    /// <summary>Kit rule: Server advertises an address in the transports scheme and both sides are healthy.</summary>
    [Fact]
    public void Server_AdvertisesAnAddressInTheTransportsScheme_AndBothSidesAreHealthy()
    {
        Assert.Equal(Factory.Name, Server.Address.Scheme, ignoreCase: true);
        Assert.Equal(HealthStatus.Healthy, Server.Health.Status);
        Assert.Equal(HealthStatus.Healthy, Client.Health.Status);
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
