using System.Buffers;

namespace Plexus.Transport.Memory;

/// <summary>
/// A memory transport server: <see cref="MemoryHub"/> makes it reachable at <c>memory://&lt;id&gt;</c> while it runs. A
/// client calls <see cref="Accept"/> directly; that call stands for what a network transport does when a request
/// frame arrives: ask the dispatcher, copy the payload once, and hand the request over with a response channel.
/// </summary>
internal sealed class MemoryServer : IRequestPlaneServer
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly MemoryTransportOptions _options;
    private readonly ArrayPool<byte> _pool;
    private readonly string _id;

    // The lock orders state changes against accepting requests, so that no request slips in after a stop began
    // without being tracked (a stop aborts it) or refused.
    private readonly Lock _gate = new();
    private readonly HashSet<MemoryExchange> _inFlight = [];
    private ServerState _state;
    private IRequestDispatcher? _dispatcher;

    // Requests accepted but not yet handed to the dispatcher; stopping to accept waits for them.
    private int _undispatched;
    private TaskCompletionSource? _allDispatched;

    /// <summary>Creates a server that is not yet started.</summary>
    /// <param name="options">Limits.</param>
    /// <param name="pool">Where request copies and response buffers are rented from.</param>
    public MemoryServer(MemoryTransportOptions options, ArrayPool<byte> pool)
    {
        _options = options;
        _pool = pool;
        _id = MemoryHub.NewServerId();
        Address = new Uri($"{MemoryTransportFactory.Scheme}://{_id}");
    }

    private enum ServerState
    {
        Created,
        Running,
        Draining,
        Closed,
    }

    /// <inheritdoc />
    public Uri Address { get; }

    /// <inheritdoc />
    public TransportHealth Health
    {
        get
        {
            lock (_gate)
            {
                return _state switch
                {
                    ServerState.Running => TransportHealth.Healthy,
                    ServerState.Draining => new TransportHealth(HealthStatus.Degraded, $"{Address} is draining: it finishes in-flight requests and takes no new ones."),
                    ServerState.Created => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has not been started."),
                    _ => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has stopped."),
                };
            }
        }
    }

    /// <inheritdoc />
    public ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            switch (_state)
            {
                case ServerState.Closed:
                    throw new ObjectDisposedException(nameof(MemoryServer), $"{Address} has stopped; create a new server.");
                case ServerState.Running or ServerState.Draining:
                    return default;
            }

            _dispatcher = dispatcher;
            _state = ServerState.Running;
        }

        // The memory transport's "bind": from now on clients can find this server by its address.
        MemoryHub.Add(_id, this);
        return default;
    }

    /// <summary>
    /// Takes one request: checks it, copies its payload once, and runs the handler in the background.
    /// </summary>
    /// <param name="request">The request as the client handed it over.</param>
    /// <param name="clientBudget">The client's budget for response bytes, shared by all its requests.</param>
    /// <returns>The request's shared state, from which the client reads responses.</returns>
    /// <exception cref="PlexusException">The request was refused; nothing ran.</exception>
    public MemoryExchange Accept(OutgoingRequest request, ClientBudget clientBudget)
    {
        // Refusals come before any work, so they are marked BeforeFirstByte: the caller may try another instance.
        var dispatcher = Volatile.Read(ref _dispatcher) ?? throw Refused($"{Address} is not running.");
        if (dispatcher.Admit(request.Endpoint, request.Instance) is { } refusal)
        {
            throw refusal;
        }

        // The server checks its own limit too (its options may differ from the client's), before copying anything.
        var length = request.Payload.Length;
        if (length > _options.MaxPayloadBytes)
        {
            throw PlexusException.TooLarge("request payload", length, _options.MaxPayloadBytes, MemoryTransportOptions.MaxPayloadBytesKey);
        }

        var exchange = new MemoryExchange(_options, _pool, request.Deadline, clientBudget);
        lock (_gate)
        {
            if (_state != ServerState.Running)
            {
                throw Refused(_state == ServerState.Draining
                    ? $"{Address} is draining and takes no new requests."
                    : $"{Address} is not running.");
            }

            _inFlight.Add(exchange);
            _undispatched++;
        }

        // The one copy of the request. After it the caller's buffer is free again, which is what SendAsync promises;
        // the handler reads the copy, which goes back to the pool when the handler is done.
        var copy = length == 0 ? [] : _pool.Rent((int)length);
        request.Payload.CopyTo(copy);
        var headers = request.Headers.Count == 0 ? NoHeaders : new Dictionary<string, string>(request.Headers);
        var incoming = new IncomingRequest(
            request.Endpoint,
            request.Instance,
            request.RequestId,
            new ReadOnlySequence<byte>(copy, 0, (int)length),
            headers,
            request.Deadline,
            exchange.RequestAborted);

        exchange.StartDeadline();

        // Run the handler off the caller's thread: a handler that blocks before its first await must not block SendAsync.
        _ = Task.Run(() => RunAsync(dispatcher, exchange, incoming, copy));
        return exchange;
    }

    /// <inheritdoc />
    public async ValueTask StopAcceptingAsync(CancellationToken cancellationToken)
    {
        Task dispatched;
        lock (_gate)
        {
            if (_state == ServerState.Running)
            {
                // From here Accept refuses; requests already accepted carry on until the server is disposed.
                _state = ServerState.Draining;
            }

            if (_undispatched == 0)
            {
                return;
            }

            _allDispatched ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            dispatched = _allDispatched.Task;
        }

        await dispatched.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Close();
        AbortInFlight($"{Address} stopped while the request was in flight.");
        return default;
    }

    private static PlexusException Refused(string message) =>
        new(PlexusErrorCode.Unavailable, message) { BeforeFirstByte = true };

    private async Task RunAsync(IRequestDispatcher dispatcher, MemoryExchange exchange, IncomingRequest request, byte[] payloadCopy)
    {
        var channel = new MemoryResponseWriter(exchange, _options.MaxPayloadBytes);
        try
        {
            // DispatchAsync counts the request as in flight before it first yields; only then is it handed over.
            var dispatch = dispatcher.DispatchAsync(request, channel);
            lock (_gate)
            {
                if (--_undispatched == 0)
                {
                    _allDispatched?.TrySetResult();
                }
            }

            await dispatch;
        }
        finally
        {
            channel.Dispose();
            if (payloadCopy.Length > 0)
            {
                _pool.Return(payloadCopy);
            }

            exchange.ServerDone();
            Finished(exchange);
        }
    }

    private void Finished(MemoryExchange exchange)
    {
        lock (_gate)
        {
            _inFlight.Remove(exchange);
        }
    }

    private void Close()
    {
        lock (_gate)
        {
            _state = ServerState.Closed;
        }

        MemoryHub.Remove(_id, this);
    }

    private void AbortInFlight(string message)
    {
        MemoryExchange[] running;
        lock (_gate)
        {
            running = new MemoryExchange[_inFlight.Count];
            _inFlight.CopyTo(running);
        }

        foreach (var exchange in running)
        {
            exchange.Abort(new PlexusException(PlexusErrorCode.Unavailable, message));
        }
    }
}
