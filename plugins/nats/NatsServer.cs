using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The NATS transport's server: one NATS connection and two subscriptions, whatever the endpoints served. Request
/// heads arrive on <c>&lt;prefix&gt;.*.*.*.*.&lt;server-id&gt;</c> (the subject names the endpoint and instance), are
/// checked by the dispatcher and, once their payload is in, handed to it; the control subject receives request chunks,
/// credit, cancellation and pings, keyed by the requester's reply subject. Each endpoint served is also a NATS service
/// endpoint on a queue subject (<see cref="NatsServices"/>) for plain NATS callers and NATS tooling. This file holds
/// the server's life; <c>NatsServer.Requests.cs</c> what arrives.
/// </summary>
internal sealed partial class NatsServer : IRequestPlaneServer, INatsMessageReceiver
{
    private readonly NatsTransportOptions _options;
    private readonly ArrayPool<byte> _pool;
    private readonly NatsLink _link;
    private readonly NatsServices _services;
    private readonly string _prefix;
    private readonly string _serverId;
    private readonly string _control;
    private readonly NatsEndpointNames _names = new();
    private readonly NatsAnswerBatcher _answers;
    private readonly ConcurrentDictionary<string, NatsExchange> _exchanges = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Timer _sweep;
    private ServerState _state;
    private IRequestDispatcher? _dispatcher;
    private NatsSubscription? _requests;
    private NatsSubscription? _controls;

    // Request bytes held now (payloads arriving or being handled), against MaxRequestBytesInFlight.
    private long _requestBytes;

    // Requests admitted but not yet handed to the dispatcher (their payload may still be arriving); stopping to
    // accept waits for them.
    private int _undispatched;
    private TaskCompletionSource? _allDispatched;

    /// <summary>Creates a server that is not yet started.</summary>
    /// <param name="options">The transport's options.</param>
    /// <param name="pool">Where payload and message buffers come from.</param>
    /// <param name="loggers">Where the connection and the client library log.</param>
    public NatsServer(NatsTransportOptions options, ArrayPool<byte> pool, ILoggerFactory loggers)
    {
        _options = options;
        _pool = pool;
        _link = new NatsLink(options, loggers, "server");
        _link.Disconnected += OnDisconnected;
        _answers = new NatsAnswerBatcher(_link);
        Span<byte> id = stackalloc byte[8];
        RandomNumberGenerator.Fill(id);
        _prefix = options.SubjectPrefix;
        _serverId = Convert.ToHexStringLower(id);
        _control = NatsAddress.Control(_prefix, _serverId);
        var authority = options.AdvertisedUrl.Length > 0 ? new Uri(options.AdvertisedUrl) : options.Servers()[0];
        Address = NatsAddress.Format($"{authority.Host}:{(authority.Port > 0 ? authority.Port : 4222)}", _prefix, _serverId);
        _services = new NatsServices(this, _link, options, _serverId, loggers.CreateLogger("Plexus.Transport.Nats"));
        _sweep = new Timer(static s => ((NatsServer)s!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private enum ServerState
    {
        Created,
        Running,
        StoppedAccepting,
        Closed,
    }

    /// <inheritdoc />
    public Uri Address { get; }

    /// <summary>The connection, for tests.</summary>
    internal NatsLink Link => _link;

    /// <summary>The process's server id, the last token of its subjects and its NATS services' id.</summary>
    internal string ServerId => _serverId;

    /// <summary>Request bytes held now, for tests.</summary>
    internal long RequestBytesInFlight => Interlocked.Read(ref _requestBytes);

    /// <summary>Requests in flight, their payload still arriving or dispatched.</summary>
    internal int InFlight => _exchanges.Count;

    /// <inheritdoc />
    public TransportHealth Health
    {
        get
        {
            ServerState state;
            lock (_gate)
            {
                state = _state;
            }

            return state switch
            {
                ServerState.Running when _link.IsConnected && _link.LameDuck => new TransportHealth(HealthStatus.Degraded, $"{Address}: nats-server is in lame-duck mode; the connection moves to another server when it closes."),
                ServerState.Running when _link.IsConnected => TransportHealth.Healthy,
                ServerState.Running => new TransportHealth(HealthStatus.Degraded, $"{Address} lost its NATS connection and is reconnecting: {_link.LastError}"),
                ServerState.StoppedAccepting => new TransportHealth(HealthStatus.Degraded, $"{Address} has stopped accepting requests: it finishes those in flight and takes no new ones."),
                ServerState.Created => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has not been started."),
                _ => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has stopped."),
            };
        }
    }

    /// <inheritdoc />
    public async ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        lock (_gate)
        {
            switch (_state)
            {
                case ServerState.Closed:
                    throw new ObjectDisposedException(nameof(NatsServer), $"{Address} has stopped; create a new server.");
                case ServerState.Running or ServerState.StoppedAccepting:
                    return;
            }

            _dispatcher = dispatcher;
        }

        try
        {
            await _link.ConnectAsync(cancellationToken).ConfigureAwait(false);

            // Subscribed once, even when a first attempt failed halfway; the client restores them after a reconnect.
            _controls ??= await _link.SubscribeAsync(_control, null, this, cancellationToken).ConfigureAwait(false);
            _requests ??= await _link.SubscribeAsync(NatsAddress.RequestSubscription(_prefix, _serverId), null, new HeadReceiver(this), cancellationToken).ConfigureAwait(false);
            await _services.StartAsync(dispatcher, cancellationToken).ConfigureAwait(false);

            // One round trip: once it is back, nats-server has every subscription, and a request sent as soon as this
            // returns finds the server.
            await _link.ConfirmAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(
                PlexusErrorCode.Unavailable,
                $"The NATS transport could not connect: {exception.Message} Check {NatsTransportOptions.Key(nameof(NatsTransportOptions.Url))}, the credentials, and that nats-server runs.",
                exception);
        }

        lock (_gate)
        {
            if (_state == ServerState.Created)
            {
                _state = ServerState.Running;
            }
        }

        var period = TimeSpan.FromMilliseconds(Math.Max(10, _options.KeepAliveInterval.TotalMilliseconds / 2));
        _sweep.Change(period, period);
    }

    /// <inheritdoc />
    public async ValueTask StopAcceptingAsync(CancellationToken cancellationToken)
    {
        NatsSubscription? requests;
        lock (_gate)
        {
            if (_state is ServerState.Created or ServerState.Running)
            {
                // From here request heads are refused; requests already admitted carry on.
                _state = ServerState.StoppedAccepting;
            }

            requests = _requests;
            _requests = null;
        }

        if (requests is not null)
        {
            // Without the subscription, nats-server answers new requests with "no responders" and their callers go
            // elsewhere; plain callers of the queue subjects reach another process. A drain, not an unsubscribe:
            // heads nats-server sent before it processed the UNSUB still arrive, before the PONG that ends the drain,
            // and are refused (an unsubscribed subscription would drop them, and their callers would wait out their
            // keep-alive).
            try
            {
                await _services.StopAcceptingAsync().ConfigureAwait(false);
                await requests.DrainAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NatsException or ObjectDisposedException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not connected (a ping pending when the link drops is cancelled): nats-server dropped the subscription
                // with the link, and a retired one is not restored.
            }
        }

        Task dispatched;
        lock (_gate)
        {
            if (_undispatched == 0)
            {
                return;
            }

            _allDispatched ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            dispatched = _allDispatched.Task;
        }

        // Requests whose chunked payload is still arriving: handed over once complete, dropped if their client goes.
        await dispatched.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        NatsSubscription? requests;
        lock (_gate)
        {
            if (_state == ServerState.Closed)
            {
                return;
            }

            _state = ServerState.Closed;
            requests = _requests;
            _requests = null;
        }

        AbortInFlight($"{Address} stopped while the request was in flight.", notifyClient: true);
        _answers.Flush();

        // Unsubscribe and wait for nats-server to confirm (one round trip, bounded): once this returns, a request to
        // this server gets "no responders" at once instead of vanishing into a closing socket, and the error frames
        // above are on their way.
        try
        {
            await _services.DisposeAsync().ConfigureAwait(false);
            if (requests is not null)
            {
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await requests.DrainAsync(bound.Token).ConfigureAwait(false);
            }

            await _link.ConfirmAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            // Not connected (or the link dropped while the ping was pending): nothing is subscribed on nats-server anyway.
        }

        // Answers of requests that ended meanwhile, before the connection goes.
        _answers.Flush();
        await _sweep.DisposeAsync().ConfigureAwait(false);
        await _link.DisposeAsync().ConfigureAwait(false);
        ReleaseStopWaiter();
    }

    /// <summary>Dies as a crashed process would: the socket is reset, nothing is said to anyone.</summary>
    internal void Kill()
    {
        lock (_gate)
        {
            _state = ServerState.Closed;
            _requests = null;
        }

        _link.Kill();
        AbortInFlight($"{Address} was killed.", notifyClient: false);
        _sweep.Dispose();
        ReleaseStopWaiter();
    }

    // The request's payload is done with: its array goes back, and its bytes leave the budget.
    private void ReturnPayload(NatsExchange exchange)
    {
        if (exchange.Payload.Length > 0)
        {
            _pool.Return(exchange.Payload);
        }

        Interlocked.Add(ref _requestBytes, -(exchange.Length + RequestOverheadBytes));
    }

    // The request was handed to the dispatcher or dropped before that: a stop no longer waits for it.
    private void ReleaseUndispatched()
    {
        lock (_gate)
        {
            if (--_undispatched == 0)
            {
                _allDispatched?.TrySetResult();
            }
        }
    }

    private void Finished(NatsExchange exchange)
    {
        if (_exchanges.TryRemove(new KeyValuePair<string, NatsExchange>(exchange.ReplyTo, exchange)))
        {
            _answers.Ended();
        }
    }

    // A request dropped before it was dispatched (cancelled, its client silent or gone) has nobody to clean up after it.
    private void DropIfNotDispatched(NatsExchange exchange)
    {
        if (exchange.HasEnded && exchange.TryClaim())
        {
            ReturnPayload(exchange);
            Finished(exchange);
            ReleaseUndispatched();
        }
    }

    private void ReleaseStopWaiter()
    {
        lock (_gate)
        {
            _allDispatched?.TrySetResult();
        }
    }

    private void AbortInFlight(string message, bool notifyClient)
    {
        foreach (var exchange in _exchanges.Values)
        {
            exchange.Abort(new PlexusException(PlexusErrorCode.Unavailable, message), notifyClient);
            DropIfNotDispatched(exchange);
        }
    }

    private void OnDisconnected(string reason) =>
        AbortInFlight(string.Create(CultureInfo.InvariantCulture, $"{Address} lost its NATS connection while the request was in flight: {reason}"), notifyClient: false);

    private void Sweep()
    {
        var now = Environment.TickCount64;
        foreach (var exchange in _exchanges.Values)
        {
            exchange.Sweep(now);
            DropIfNotDispatched(exchange);
        }
    }

    // Request heads come through their own subscription; control frames through the server itself.
    private sealed class HeadReceiver(NatsServer server) : INatsMessageReceiver
    {
        public ValueTask ReceiveAsync(string subject, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload) =>
            server.OnHeadAsync(subject, replyTo, headers, payload);
    }
}
