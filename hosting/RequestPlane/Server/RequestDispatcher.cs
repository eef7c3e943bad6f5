using System.Buffers;
using System.Collections.Concurrent;
using Plexus.Hosting.Bulk;

namespace Plexus.Hosting;

/// <summary>
/// The server half of the request plane, the same for every transport: the endpoints served here, the instance check,
/// the <see cref="RequestContext"/> with its deadline and cancellation, the handler call, one rule that turns what a
/// handler throws into the typed error its client sees, in-flight tracking and the drain. A transport's server hands
/// it each request (<see cref="IRequestPlaneServer.StartAsync"/>); applications and tests that drive a transport
/// directly create one, register handlers and start the server with it.
/// </summary>
public sealed class RequestDispatcher : IRequestDispatcher
{
    // Timers cannot wait longer than this (about 49 days); a later deadline is as good as none.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    private readonly ConcurrentDictionary<EndpointAddress, Registration> _endpoints = new();
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource? _idle;
    private IReadOnlyDictionary<EndpointAddress, InstanceId> _served = new Dictionary<EndpointAddress, InstanceId>();
    private int _inFlight;
    private volatile bool _draining;

    /// <summary>Creates a dispatcher that serves nothing yet.</summary>
    /// <param name="time">The clock deadlines are measured on; null for the system clock.</param>
    public RequestDispatcher(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The bulk path, when the node has one: requests offered by descriptor are pulled before their handler
    /// runs, and clients that pull get large response messages by descriptor.</summary>
    internal BulkPath? Bulk { get; init; }

    /// <summary>Requests running now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Whether <see cref="DrainAsync"/> has begun: new requests are refused.</summary>
    public bool IsDraining => _draining;

    /// <inheritdoc />
    public IReadOnlyDictionary<EndpointAddress, InstanceId> Endpoints => Volatile.Read(ref _served);

    /// <inheritdoc />
    public event EventHandler? EndpointsChanged;

    /// <summary>Serves <paramref name="endpoint"/> as instance <paramref name="instance"/> with <paramref name="handler"/>.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance id requests must name; a request naming another id is refused as unavailable.</param>
    /// <param name="handler">The handler.</param>
    /// <exception cref="InvalidOperationException">The endpoint is already registered.</exception>
    public void Register(EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!_endpoints.TryAdd(endpoint, new Registration(instance, handler)))
        {
            throw new InvalidOperationException($"{endpoint} is already served here; unregister it first.");
        }

        Changed();
    }

    /// <summary>Stops serving an endpoint: new requests to it are refused, in-flight ones finish.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns><see langword="true"/> if it was registered.</returns>
    public bool Unregister(EndpointAddress endpoint)
    {
        if (!_endpoints.TryRemove(endpoint, out _))
        {
            return false;
        }

        Changed();
        return true;
    }

    /// <inheritdoc />
    public PlexusException? Admit(EndpointAddress endpoint, InstanceId instance)
    {
        // Releases and fetches of offered messages are taken while draining too: the streams being drained need them.
        if (Bulk is { } bulk && bulk.IsControl(endpoint))
        {
            return null;
        }

        if (_draining)
        {
            return Refused($"This server is draining and takes no new requests; {endpoint} is served elsewhere or not at all.");
        }

        if (!_endpoints.TryGetValue(endpoint, out var registration))
        {
            return Refused($"{endpoint} is not served here; the caller's instance list is stale or names the wrong address.");
        }

        return registration.Instance == instance
            ? null
            : Refused($"{endpoint} is served here as instance {registration.Instance}, not {instance}; the caller's instance list is stale.");
    }

    /// <inheritdoc />
    public async ValueTask DispatchAsync(IncomingRequest request, IResponseChannel responses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);
        if (Bulk is { } bulk && bulk.IsControl(request.Endpoint))
        {
            await bulk.ServeControlAsync(request, responses);
            return;
        }

        if (!TryEnter(request, out var registration, out var refusal))
        {
            await CompleteQuietlyAsync(responses, refusal);
            return;
        }

        // Why the handler's token fired is recorded before it fires, so that a handler reacting at once (even inline, on
        // the timer's thread) can never make a passed deadline look like a handler error.
        using var aborted = new RequestAbort();
        using var deadlineTimer = request.Deadline is { } deadline && deadline - _time.GetUtcNow() is var remaining && remaining < LongestTimer
            ? _time.CreateTimer(static state => ((RequestAbort)state!).Fire(AbortReason.Deadline), aborted, Clamp(remaining), Timeout.InfiniteTimeSpan)
            : null;
        using var fromClient = request.Aborted.UnsafeRegister(static state => ((RequestAbort)state!).Fire(AbortReason.Client), aborted);
        using var fromServer = _stopping.Token.UnsafeRegister(static state => ((RequestAbort)state!).Fire(AbortReason.Stopping), aborted);
        IBulkBuffer? pulled = null;
        try
        {
            var channel = Bulk is { } withBulk && withBulk.ClientAccepts(request.Headers) ? new BulkResponseChannel(responses, withBulk) : responses;
            var payload = request.Payload;
            PlexusException? error = null;
            try
            {
                if (request.Headers.TryGetValue(PlexusHeaders.Bulk, out var via))
                {
                    (pulled, var length) = await PullAsync(via, request, aborted.Token);
                    payload = new ReadOnlySequence<byte>(pulled.Memory[..length]);
                }
                else
                {
                    Bulk?.ArrivedInline(payload.Length);
                }

                var context = new RequestContext(request.Endpoint, request.RequestId, payload, request.Headers, request.Deadline, aborted.Token);
                await registration.Handler.HandleAsync(context, channel);
            }
            catch (Exception exception)
            {
                error = ToClientError(exception, request, channel.HasResponded, aborted.Reason);
            }

            await CompleteQuietlyAsync(channel, error);
        }
        finally
        {
            if (pulled is not null)
            {
                Bulk!.Pool!.Return(pulled);
            }

            Leave();
        }
    }

    /// <summary>
    /// The graceful stop: refuses new requests, tells <paramref name="server"/> to stop accepting, and waits for the
    /// requests in flight. When <paramref name="cancellationToken"/> fires first, what is still running is aborted (its
    /// handlers' tokens fire and their clients see <see cref="PlexusErrorCode.Unavailable"/>).
    /// </summary>
    /// <param name="server">The server to stop accepting; null when only the dispatcher drains.</param>
    /// <param name="cancellationToken">The end of the grace period.</param>
    /// <returns><see langword="true"/> when every request finished in time; <see langword="false"/> when some were aborted.</returns>
    public async ValueTask<bool> DrainAsync(IRequestPlaneServer? server, CancellationToken cancellationToken)
    {
        _draining = true;
        Task? idle = null;
        try
        {
            if (server is not null)
            {
                await server.StopAcceptingAsync(cancellationToken);
            }

            // Counted only now: until the server has stopped accepting, a request it admitted may still be on its way
            // to DispatchAsync, and an idle moment before that is not the end of the drain.
            idle = IdleAsync();

            // A transport that used up the grace period just stopping to accept leaves no time to finish anything.
            cancellationToken.ThrowIfCancellationRequested();
            await idle.WaitAsync(cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _stopping.CancelAsync();

            // Aborted handlers end promptly; their streams are completed with the abort's error before the server closes.
            idle ??= IdleAsync();
            await idle.WaitAsync(TimeSpan.FromSeconds(5), _time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return false;
        }
    }

    /// <summary>Pulls a payload the client offered by descriptor, before the handler runs.</summary>
    private async ValueTask<(IBulkBuffer Buffer, int Length)> PullAsync(string transport, IncomingRequest request, CancellationToken cancellationToken)
    {
        if (Bulk is null)
        {
            throw new PlexusException(PlexusErrorCode.BulkUnavailable, "This node has no bulk path (Plexus:Bulk:Transport is empty); send the payload inline.") { BeforeFirstByte = true };
        }

        var remote = BulkWire.ReadRecord(request.Payload, transport);
        var buffer = await Bulk.PullAsync(remote, "request", 0, cancellationToken);
        return (buffer, (int)remote.Length);
    }

    private Task IdleAsync()
    {
        lock (_gate)
        {
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight == 0)
            {
                _idle.TrySetResult();
            }

            return _idle.Task;
        }
    }

    private static PlexusException Refused(string message) => new(PlexusErrorCode.Unavailable, message) { BeforeFirstByte = true };

    private static TimeSpan Clamp(TimeSpan remaining) => remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining;

    private static async ValueTask CompleteQuietlyAsync(IResponseChannel responses, PlexusException? error)
    {
        try
        {
            await responses.CompleteAsync(error);
        }
        catch (Exception)
        {
            // The contract says CompleteAsync does not throw; a transport that does must not take the dispatcher down.
        }
    }

    private bool TryEnter(IncomingRequest request, out Registration registration, out PlexusException? refusal)
    {
        // No draining check here: a request the transport admitted before it stopped accepting is in flight, and the
        // transport hands it over before StopAcceptingAsync completes (the contract), so the drain waits for it.
        refusal = null;
        if (!_endpoints.TryGetValue(request.Endpoint, out registration) || registration.Instance != request.Instance)
        {
            refusal = Admit(request.Endpoint, request.Instance) ?? Refused($"{request.Endpoint} is not served here.");
            return false;
        }

        lock (_gate)
        {
            _inFlight++;
            return true;
        }
    }

    private void Leave()
    {
        lock (_gate)
        {
            if (--_inFlight == 0 && _draining)
            {
                _idle?.TrySetResult();
            }
        }
    }

    // The one rule for what a client sees when its handler fails. A fresh exception, as if rebuilt from the wire, so
    // that server stack traces stay on the server; "retry elsewhere" holds only while nothing was sent.
    private static PlexusException ToClientError(Exception exception, IncomingRequest request, bool responded, AbortReason reason)
    {
        // Once the token fired, whatever the handler throws (its own OperationCanceledException, or a writer that
        // refuses because the request ended) is the abort's doing, and the client is told why.
        switch (reason)
        {
            case AbortReason.Stopping:
                return new PlexusException(PlexusErrorCode.Unavailable, $"The server stopped while {request.Endpoint} request {request.RequestId} was in flight (its drain ran out of time).");
            case AbortReason.Deadline:
                return new PlexusException(PlexusErrorCode.Timeout, $"{request.Endpoint} request {request.RequestId} passed its deadline of {request.Deadline:O} before its handler finished.");
            case AbortReason.Client:
                return new PlexusException(PlexusErrorCode.Cancelled, $"The client cancelled {request.Endpoint} request {request.RequestId}.");
        }

        return exception is PlexusException plexus
            ? new PlexusException(plexus.Code, plexus.Message) { BeforeFirstByte = plexus.BeforeFirstByte && !responded }
            : new PlexusException(PlexusErrorCode.HandlerError, exception.Message);
    }

    private enum AbortReason
    {
        None,
        Client,
        Deadline,
        Stopping,
    }

    // A new snapshot for readers of Endpoints (changes are rare; reads need no lock), then the event.
    private void Changed()
    {
        lock (_gate)
        {
            var served = new Dictionary<EndpointAddress, InstanceId>(_endpoints.Count);
            foreach (var (endpoint, registration) in _endpoints)
            {
                served[endpoint] = registration.Instance;
            }

            Volatile.Write(ref _served, served);
        }

        EndpointsChanged?.Invoke(this, EventArgs.Empty);
    }

    private readonly record struct Registration(InstanceId Instance, IEndpointHandler Handler);

    /// <summary>The handler's token, and the first reason it fired for.</summary>
    private sealed class RequestAbort : IDisposable
    {
        private readonly CancellationTokenSource _source = new();
        private int _reason;

        public CancellationToken Token => _source.Token;

        public AbortReason Reason => (AbortReason)Volatile.Read(ref _reason);

        public void Fire(AbortReason reason)
        {
            if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)AbortReason.None) != (int)AbortReason.None)
            {
                return;
            }

            try
            {
                _source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The request ended while the cancellation was on its way.
            }
            catch (AggregateException)
            {
                // A callback the handler registered on its token threw: the handler's failure, reported by its own end.
            }
        }

        public void Dispose() => _source.Dispose();
    }
}
