using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>
/// The NATS transport's server: one NATS connection and two subscriptions, whatever the endpoints served. Request
/// heads arrive on <c>&lt;prefix&gt;.*.*.*.*.&lt;server-id&gt;</c> (the subject names the endpoint and instance), are
/// checked by the dispatcher and, once their payload is in, handed to it; the control subject receives request chunks,
/// credit, cancellation and pings, keyed by the requester's reply subject. This file holds the server's life;
/// <c>NatsServer.Requests.cs</c> what arrives.
/// </summary>
internal sealed partial class NatsServer : IRequestPlaneServer, INatsMessageHandler
{
    private readonly NatsTransportOptions _options;
    private readonly ArrayPool<byte> _pool;
    private readonly NatsConnection _connection;
    private readonly string _prefix;
    private readonly string _serverId;
    private readonly string _control;
    private readonly NatsEndpointNames _names = new();
    private readonly ConcurrentDictionary<string, NatsExchange> _exchanges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NatsExchange>.AlternateLookup<ReadOnlySpan<char>> _exchangesBySpan;
    private readonly Lock _gate = new();
    private readonly Timer _sweep;
    private ServerState _state;
    private IRequestDispatcher? _dispatcher;
    private NatsSubscription? _requests;

    // Requests admitted but not yet handed to the dispatcher (their payload may still be arriving); stopping to
    // accept waits for them.
    private int _undispatched;
    private TaskCompletionSource? _allDispatched;

    /// <summary>Creates a server that is not yet started.</summary>
    /// <param name="options">The transport's options.</param>
    /// <param name="pool">Where payload and message buffers come from.</param>
    /// <param name="logger">Where connection events go.</param>
    public NatsServer(NatsTransportOptions options, ArrayPool<byte> pool, ILogger logger)
    {
        _options = options;
        _pool = pool;
        _connection = new NatsConnection(options.ToConnectionOptions(), logger);
        _connection.Disconnected += OnDisconnected;
        Span<byte> id = stackalloc byte[8];
        RandomNumberGenerator.Fill(id);
        _prefix = options.SubjectPrefix;
        _serverId = Convert.ToHexStringLower(id);
        _control = NatsAddress.Control(_prefix, _serverId);
        _exchangesBySpan = _exchanges.GetAlternateLookup<ReadOnlySpan<char>>();
        var authority = options.AdvertisedUrl.Length > 0 ? new Uri(options.AdvertisedUrl) : options.Servers()[0];
        Address = NatsAddress.Format($"{authority.Host}:{NatsLink.PortOf(authority)}", _prefix, _serverId);
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
    internal NatsConnection Connection => _connection;

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
                ServerState.Running when _connection.State == NatsConnectionState.Connected => TransportHealth.Healthy,
                ServerState.Running => new TransportHealth(HealthStatus.Degraded, $"{Address} lost its NATS connection and is reconnecting: {_connection.LastError}"),
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

            // Both subscriptions go out with the connection's handshake, before its first PING: once connected,
            // nats-server has them, and a request sent as soon as this returns finds the server. Subscribed once, even
            // when a first connection attempt failed.
            if (_requests is null)
            {
                _connection.Subscribe(_control, queueGroup: null, this);
                _requests = _connection.Subscribe(NatsAddress.RequestSubscription(_prefix, _serverId), queueGroup: null, new HeadHandler(this));
            }
        }

        try
        {
            await _connection.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(
                PlexusErrorCode.Unavailable,
                $"The NATS transport could not connect: {exception.Message} Check {NatsTransportOptions.Key(nameof(NatsTransportOptions.Url))} and that nats-server runs.",
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
            // elsewhere. Heads it sent before it processed the UNSUB arrive before the PONG and are refused.
            _connection.Unsubscribe(requests);
            try
            {
                await _connection.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NatsException)
            {
                // Not connected: nats-server dropped the subscription with the link, and a retired one is not restored.
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

        // Unsubscribe and wait for nats-server to confirm (one round trip, bounded): once this returns, a request to
        // this server gets "no responders" at once instead of vanishing into a closing socket, and the error frames
        // above are on their way.
        if (requests is not null)
        {
            _connection.Unsubscribe(requests);
        }

        try
        {
            await _connection.FlushAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or TimeoutException)
        {
            // Not connected: nothing is subscribed on nats-server anyway.
        }

        await _sweep.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
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

        _connection.Abort();
        AbortInFlight($"{Address} was killed.", notifyClient: false);
        _sweep.Dispose();
        ReleaseStopWaiter();
    }

    private void ReturnPayload(byte[] payload)
    {
        if (payload.Length > 0)
        {
            _pool.Return(payload);
        }
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

    private void Finished(NatsExchange exchange) =>
        _exchanges.TryRemove(new KeyValuePair<string, NatsExchange>(exchange.ReplyTo, exchange));

    // A request dropped before it was dispatched (cancelled, its client silent or gone) has nobody to clean up after it.
    private void DropIfNotDispatched(NatsExchange exchange)
    {
        if (exchange.HasEnded && exchange.TryClaim())
        {
            ReturnPayload(exchange.Payload);
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
    private sealed class HeadHandler(NatsServer server) : INatsMessageHandler
    {
        public void OnMessage(in NatsMessage message) => server.OnHead(message);
    }
}
