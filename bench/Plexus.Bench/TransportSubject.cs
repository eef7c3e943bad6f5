using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Plexus.Bench;

/// <summary>
/// A request-plane transport under test: one server and one client from its factory, in this process. No discovery
/// and no router: requests go straight to the server's address, so the figures are the transport's alone.
/// </summary>
internal sealed class TransportSubject : IBenchSubject, IServingSubject
{
    private static readonly EndpointAddress UnaryEndpoint = new("bench", "plexus", "unary");
    private static readonly EndpointAddress StreamEndpoint = new("bench", "plexus", "stream");
    private static readonly EndpointAddress BulkEndpoint = new("bench", "plexus", "bulk");
    private static readonly EndpointAddress ServingEndpoint = new("bench", "plexus", "serving");
    private static readonly InstanceId Instance = new(0xbe9c);
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly ITransportFactory _factory;
    private readonly string _name;
    private readonly string? _servingNote;
    private readonly Plexus.Hosting.RequestDispatcher _dispatcher = new();
    private readonly BenchServingHandler _serving = new();
    private IRequestPlaneServer? _server;
    private IRequestPlaneClient? _client;
    private long _requestIds;

    /// <param name="factory">The transport.</param>
    /// <param name="name">The name in the table and the JSON: the transport's own unless given (a baseline's, such as <see cref="BenchNames.Tcp"/>).</param>
    /// <param name="servingNote">What the run changed in the transport's settings for the serving scenario, if anything.</param>
    public TransportSubject(ITransportFactory factory, string? name = null, string? servingNote = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _factory = factory;
        _name = name ?? factory.Name;
        _servingNote = servingNote;
    }

    public string Name => _name;

    public string? ServingUnsupported => null;

    public string? ServingNote => _servingNote;

    private Uri Address => _server?.Address ?? throw new InvalidOperationException("The subject has not been started.");

    private IRequestPlaneClient Client => _client ?? throw new InvalidOperationException("The subject has not been started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _server = _factory.CreateServer();

        // The core's dispatcher, as a node runs it, so the figures include what every request pays on the server.
        _dispatcher.Register(UnaryEndpoint, Instance, new BenchUnaryHandler());
        _dispatcher.Register(StreamEndpoint, Instance, new BenchStreamHandler());
        _dispatcher.Register(BulkEndpoint, Instance, new BenchBulkHandler());
        _dispatcher.Register(ServingEndpoint, Instance, _serving);
        await _server.StartAsync(_dispatcher, cancellationToken);
        LoopbackGuard.Ensure(_server.Address, _factory.Name);
        _client = _factory.CreateClient();
    }

    public ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IUnaryCaller>(new TransportUnaryCaller(this));

    public async ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken)
    {
        await using var responses = await SendAsync(StreamEndpoint, ReadOnlySequence<byte>.Empty, cancellationToken);
        long messages = 0;
        while (await responses.MoveNextAsync(cancellationToken))
        {
            if (responses.Current.Length != BenchSizes.StreamMessageBytes)
            {
                throw new BenchFailedException($"{Name} stream: message {messages} has {responses.Current.Length} bytes, not {BenchSizes.StreamMessageBytes}.");
            }

            messages++;
        }

        return messages;
    }

    public async ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken)
    {
        await using var responses = await SendAsync(BulkEndpoint, new ReadOnlySequence<byte>(BenchPayloads.Bulk), cancellationToken);
        if (!await responses.MoveNextAsync(cancellationToken) || responses.Current.Length != BenchSizes.BulkAckBytes)
        {
            throw new BenchFailedException($"{Name} bulk: the server did not acknowledge the payload with its length.");
        }

        var received = ReadAck(responses.Current);
        if (await responses.MoveNextAsync(cancellationToken))
        {
            throw new BenchFailedException($"{Name} bulk: the server sent more than the acknowledgement.");
        }

        return received;
    }

    /// <summary>One unary call, used by every <see cref="TransportUnaryCaller"/>: the client is shared, as it is meant to be.</summary>
    // Pooled, like every per-call method of the bench, so that the harness allocates nothing per call for any subject.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public ValueTask CallUnaryAsync(CancellationToken cancellationToken) => CallUnaryAsync(Client, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CallUnaryAsync(IRequestPlaneClient client, CancellationToken cancellationToken)
    {
        await using var responses = await SendAsync(client, UnaryEndpoint, new ReadOnlySequence<byte>(BenchPayloads.UnaryRequest), cancellationToken);
        if (!await responses.MoveNextAsync(cancellationToken) || responses.Current.Length != BenchSizes.UnaryResponseBytes)
        {
            throw new BenchFailedException($"{Name} unary: the response is not one {BenchSizes.UnaryResponseBytes}-byte message.");
        }

        if (await responses.MoveNextAsync(cancellationToken))
        {
            throw new BenchFailedException($"{Name} unary: the server sent more than one message.");
        }
    }

    /// <summary>
    /// One client from the factory per connection: a client shares one connection per server address among all its
    /// requests (where the transport has connections), so n clients are n connections to the one server. Each makes a
    /// unary call first, which opens its connection.
    /// </summary>
    public async ValueTask<IServingClient> OpenServingAsync(ServingPlan plan, ServingPacer pacer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(pacer);
        _serving.Pacer = pacer;
        var clients = new IRequestPlaneClient[plan.Connections];
        var serving = new ServingClient(this, clients, plan.Connections);
        try
        {
            for (var i = 0; i < clients.Length; i++)
            {
                clients[i] = _factory.CreateClient();
                serving.Opened = i + 1;
                await CallUnaryAsync(clients[i], cancellationToken);
            }

            return serving;
        }
        catch
        {
            await serving.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_server is not null)
        {
            // Nothing should be in flight by now; the bound keeps a misbehaving transport from holding the command.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _dispatcher.DrainAsync(_server, grace.Token);
            }
            catch (OperationCanceledException)
            {
                // Aborted in-flight work; DisposeAsync below stops the rest.
            }

            try
            {
                await _server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                // A transport that cannot stop is its own bug; the bench still ends and prints what it measured.
            }
        }
    }

    private ValueTask<IResponseStream> SendAsync(EndpointAddress endpoint, ReadOnlySequence<byte> payload, CancellationToken cancellationToken) =>
        SendAsync(Client, endpoint, payload, cancellationToken);

    private ValueTask<IResponseStream> SendAsync(IRequestPlaneClient client, EndpointAddress endpoint, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _requestIds).ToString(CultureInfo.InvariantCulture);
        return client.SendAsync(Address, new OutgoingRequest(endpoint, Instance, id, payload, NoHeaders, null), cancellationToken);
    }

    private static long ReadAck(ReadOnlySequence<byte> message)
    {
        Span<byte> ack = stackalloc byte[BenchSizes.BulkAckBytes];
        message.CopyTo(ack);
        return BinaryPrimitives.ReadInt64LittleEndian(ack);
    }

    private sealed class ServingClient(TransportSubject subject, IRequestPlaneClient[] clients, int connections) : IServingClient
    {
        /// <summary>How many of the clients were created, and are disposed with this.</summary>
        public int Opened { get; set; }

        public async ValueTask RunStreamAsync(ServingRequest request, int connection, ServingLog log, CancellationToken cancellationToken)
        {
            var stream = request.Stream;
            var payload = new ReadOnlySequence<byte>(request.ToArray());
            log.Sent(stream);
            await using var responses = await subject.SendAsync(clients[connection % connections], ServingEndpoint, payload, cancellationToken);
            while (await responses.MoveNextAsync(cancellationToken))
            {
                var sequence = log.Arrived(stream);
                if (!ServingToken.Matches(responses.Current, stream, sequence, request.TokenBytes))
                {
                    throw ServingToken.Unexpected(stream, sequence);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            for (var i = 0; i < Opened; i++)
            {
                await clients[i].DisposeAsync();
            }

            subject._serving.Pacer = null;
        }
    }
}
