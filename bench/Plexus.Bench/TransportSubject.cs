using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Plexus.Bench;

/// <summary>
/// A request-plane transport under test: one server and one client from its factory, in this process. No discovery
/// and no router: requests go straight to the server's address, so the figures are the transport's alone.
/// </summary>
internal sealed class TransportSubject : IBenchSubject
{
    private static readonly EndpointAddress UnaryEndpoint = new("bench", "plexus", "unary");
    private static readonly EndpointAddress StreamEndpoint = new("bench", "plexus", "stream");
    private static readonly EndpointAddress BulkEndpoint = new("bench", "plexus", "bulk");
    private static readonly InstanceId Instance = new(0xbe9c);
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly ITransportFactory _factory;
    private readonly string _name;
    private readonly Plexus.Hosting.RequestDispatcher _dispatcher = new();
    private IRequestPlaneServer? _server;
    private IRequestPlaneClient? _client;
    private long _requestIds;

    /// <param name="factory">The transport.</param>
    /// <param name="name">The name in the table and the JSON: the transport's own unless given (a baseline's, such as <see cref="BenchNames.Tcp"/>).</param>
    public TransportSubject(ITransportFactory factory, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _factory = factory;
        _name = name ?? factory.Name;
    }

    public string Name => _name;

    private Uri Address => _server?.Address ?? throw new InvalidOperationException("The subject has not been started.");

    private IRequestPlaneClient Client => _client ?? throw new InvalidOperationException("The subject has not been started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _server = _factory.CreateServer();

        // The core's dispatcher, as a node runs it, so the figures include what every request pays on the server.
        _dispatcher.Register(UnaryEndpoint, Instance, new BenchUnaryHandler());
        _dispatcher.Register(StreamEndpoint, Instance, new BenchStreamHandler());
        _dispatcher.Register(BulkEndpoint, Instance, new BenchBulkHandler());
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
    public async ValueTask CallUnaryAsync(CancellationToken cancellationToken)
    {
        await using var responses = await SendAsync(UnaryEndpoint, new ReadOnlySequence<byte>(BenchPayloads.UnaryRequest), cancellationToken);
        if (!await responses.MoveNextAsync(cancellationToken) || responses.Current.Length != BenchSizes.UnaryResponseBytes)
        {
            throw new BenchFailedException($"{Name} unary: the response is not one {BenchSizes.UnaryResponseBytes}-byte message.");
        }

        if (await responses.MoveNextAsync(cancellationToken))
        {
            throw new BenchFailedException($"{Name} unary: the server sent more than one message.");
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

    private ValueTask<IResponseStream> SendAsync(EndpointAddress endpoint, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _requestIds).ToString(CultureInfo.InvariantCulture);
        return Client.SendAsync(Address, new OutgoingRequest(endpoint, Instance, id, payload, NoHeaders, null), cancellationToken);
    }

    private static long ReadAck(ReadOnlySequence<byte> message)
    {
        Span<byte> ack = stackalloc byte[BenchSizes.BulkAckBytes];
        message.CopyTo(ack);
        return BinaryPrimitives.ReadInt64LittleEndian(ack);
    }
}
