using System.Buffers;
using System.Collections.Concurrent;

namespace Plexus.Transport.Memory;

/// <summary>
/// A memory transport server: a table of endpoint handlers that <see cref="MemoryHub"/> makes reachable at
/// <c>memory://&lt;id&gt;</c> while the server runs. A client calls <see cref="Accept"/> directly; that call stands for
/// what a network transport does when a request frame arrives.
/// </summary>
internal sealed class MemoryServer : IRequestPlaneServer
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly MemoryTransportOptions _options;
    private readonly ArrayPool<byte> _pool;
    private readonly string _id;
    private readonly ConcurrentDictionary<EndpointAddress, MemoryRegistration> _endpoints = new();

    // The lock orders state changes against accepting requests, so that no request slips in after a drain or stop
    // began without being tracked (drain waits for it) or refused.
    private readonly Lock _gate = new();
    private readonly HashSet<MemoryExchange> _inFlight = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServerState _state;

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
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
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

            _state = ServerState.Running;
        }

        // The memory transport's "bind": from now on clients can find this server by its address.
        MemoryHub.Add(_id, this);
        return default;
    }

    /// <inheritdoc />
    public void Register(EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!_endpoints.TryAdd(endpoint, new MemoryRegistration(instance, handler)))
        {
            throw new InvalidOperationException($"{endpoint} is already registered on {Address}; unregister it first.");
        }
    }

    /// <inheritdoc />
    public bool Unregister(EndpointAddress endpoint) => _endpoints.TryRemove(endpoint, out _);

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
        if (!_endpoints.TryGetValue(request.Endpoint, out var registration))
        {
            throw Refused($"{request.Endpoint} is not served at {Address}.");
        }

        if (registration.Instance != request.Instance)
        {
            throw Refused($"{Address} serves {request.Endpoint} as instance {registration.Instance}, not {request.Instance}; the caller's instance list is stale.");
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
        }

        // The one copy of the request. After it the caller's buffer is free again, which is what SendAsync promises;
        // the handler reads the copy, which goes back to the pool when the handler is done.
        var copy = length == 0 ? [] : _pool.Rent((int)length);
        request.Payload.CopyTo(copy);
        var headers = request.Headers.Count == 0 ? NoHeaders : new Dictionary<string, string>(request.Headers);
        var context = new RequestContext(
            request.Endpoint,
            request.RequestId,
            new ReadOnlySequence<byte>(copy, 0, (int)length),
            headers,
            request.Deadline,
            exchange.RequestAborted);

        exchange.StartDeadline();

        // Run the handler off the caller's thread: a handler that blocks before its first await must not block SendAsync.
        _ = Task.Run(() => RunAsync(exchange, registration.Handler, context, copy));
        return exchange;
    }

    /// <inheritdoc />
    public async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            switch (_state)
            {
                case ServerState.Created:
                    _state = ServerState.Closed;
                    return;
                case ServerState.Closed:
                    return;
                case ServerState.Running:
                    // From here Accept refuses; requests already accepted carry on.
                    _state = ServerState.Draining;
                    if (_inFlight.Count == 0)
                    {
                        _drained.TrySetResult();
                    }

                    break;
            }
        }

        try
        {
            await _drained.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of time: what is still running is aborted, as DisposeAsync would.
            AbortInFlight($"{Address} stopped while draining before the request completed.");
        }

        Close();
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

    // What the client sees when a handler throws: the handler's message, and its code if it chose one. A fresh
    // exception, as a network transport would rebuild it from the wire, so server stack traces stay on the server.
    private static PlexusException ToClientError(Exception exception) => exception is PlexusException plexus
        ? new PlexusException(plexus.Code, plexus.Message) { BeforeFirstByte = plexus.BeforeFirstByte }
        : new PlexusException(PlexusErrorCode.HandlerError, exception.Message);

    private async Task RunAsync(MemoryExchange exchange, IEndpointHandler handler, RequestContext context, byte[] payloadCopy)
    {
        var writer = new MemoryResponseWriter(exchange, _options.MaxPayloadBytes);
        try
        {
            await handler.HandleAsync(context, writer);

            // Returning ends the stream; messages the handler ended but did not flush still go out first.
            await writer.FlushAsync(CancellationToken.None);
            exchange.Complete(null);
        }
        catch (Exception exception)
        {
            // After an abort this does nothing: the client already has the abort's error.
            exchange.Complete(ToClientError(exception));
        }
        finally
        {
            writer.Dispose();
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
        bool drained;
        lock (_gate)
        {
            _inFlight.Remove(exchange);
            drained = _state != ServerState.Running && _inFlight.Count == 0;
        }

        if (drained)
        {
            _drained.TrySetResult();
        }
    }

    private void Close()
    {
        lock (_gate)
        {
            _state = ServerState.Closed;
        }

        MemoryHub.Remove(_id, this);

        // Wakes a drain still waiting when the server is disposed under it.
        _drained.TrySetResult();
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
