using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>
/// The NATS transport's server: one NATS connection serving every registered endpoint. Each registration subscribes
/// to its instance subject (and, with a queue group configured, to the endpoint's queue subject); the server's control
/// subject receives request chunks, credit, cancellation and pings, keyed by the requester's reply subject.
/// </summary>
internal sealed class NatsServer : IRequestPlaneServer, INatsMessageHandler
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly NatsTransportOptions _options;
    private readonly ArrayPool<byte> _pool;
    private readonly NatsConnection _connection;
    private readonly string _serverId;
    private readonly string _control;
    private readonly ConcurrentDictionary<EndpointAddress, NatsEndpointListener> _endpoints = new();
    private readonly ConcurrentDictionary<string, NatsServerExchange> _exchanges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NatsServerExchange>.AlternateLookup<ReadOnlySpan<char>> _exchangesBySpan;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Timer _sweep;
    private ServerState _state;

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
        _serverId = Convert.ToHexStringLower(id);
        _control = NatsAddress.Control(options.SubjectPrefix, _serverId);
        _exchangesBySpan = _exchanges.GetAlternateLookup<ReadOnlySpan<char>>();
        var authority = options.AdvertisedUrl.Length > 0 ? new Uri(options.AdvertisedUrl) : options.Servers()[0];
        Address = NatsAddress.Format($"{authority.Host}:{NatsLink.PortOf(authority)}", options.SubjectPrefix, _serverId);
        _sweep = new Timer(static s => ((NatsServer)s!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
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

    /// <summary>The connection, for tests.</summary>
    internal NatsConnection Connection => _connection;

    /// <summary>Requests in flight.</summary>
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
                ServerState.Draining => new TransportHealth(HealthStatus.Degraded, $"{Address} is draining: it finishes in-flight requests and takes no new ones."),
                ServerState.Created => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has not been started."),
                _ => new TransportHealth(HealthStatus.Unhealthy, $"{Address} has stopped."),
            };
        }
    }

    /// <inheritdoc />
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            switch (_state)
            {
                case ServerState.Closed:
                    throw new ObjectDisposedException(nameof(NatsServer), $"{Address} has stopped; create a new server.");
                case ServerState.Running or ServerState.Draining:
                    return;
            }
        }

        _connection.Subscribe(_control, queueGroup: null, this);
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
            _state = ServerState.Running;
        }

        foreach (var listener in _endpoints.Values)
        {
            SubscribeListener(listener);
        }

        var period = TimeSpan.FromMilliseconds(Math.Max(10, _options.KeepAliveInterval.TotalMilliseconds / 2));
        _sweep.Change(period, period);
    }

    /// <inheritdoc />
    public void Register(EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var listener = new NatsEndpointListener(this, endpoint, instance, handler, queued: false);
        if (_options.QueueGroup.Length > 0)
        {
            listener.QueueListener = new NatsEndpointListener(this, endpoint, instance, handler, queued: true);
        }

        if (!_endpoints.TryAdd(endpoint, listener))
        {
            throw new InvalidOperationException($"{endpoint} is already registered on {Address}; unregister it first.");
        }

        bool running;
        lock (_gate)
        {
            running = _state == ServerState.Running;
        }

        if (running)
        {
            SubscribeListener(listener);

            // Register promises the endpoint is served when it returns: wait for the server to confirm the
            // subscription (one round trip), so a request sent right after cannot find nobody listening.
            try
            {
                _connection.FlushAsync(CancellationToken.None).WaitAsync(_options.ConnectTimeout).GetAwaiter().GetResult();
            }
            catch (Exception exception) when (exception is NatsException or TimeoutException)
            {
                // Not connected: the subscription is restored with the others when the connection is back.
            }
        }
    }

    /// <inheritdoc />
    public bool Unregister(EndpointAddress endpoint)
    {
        if (!_endpoints.TryRemove(endpoint, out var listener))
        {
            return false;
        }

        UnsubscribeListener(listener);
        return true;
    }

    /// <summary>A request head arrived on an endpoint's subject; on the read loop.</summary>
    /// <param name="listener">The endpoint's listener.</param>
    /// <param name="message">The request head.</param>
    public void OnRequest(NatsEndpointListener listener, in NatsMessage message)
    {
        if (message.ReplyTo.IsEmpty)
        {
            // Not from a Plexus client: nobody to answer.
            return;
        }

        var replyTo = Encoding.UTF8.GetString(message.ReplyTo);

        // Between an unsubscribe and the server processing it, requests may still arrive: refuse them.
        if (!_endpoints.TryGetValue(listener.Endpoint, out var current) || (current != listener && current.QueueListener != listener))
        {
            Refuse(replyTo, PlexusErrorCode.Unavailable, $"{listener.Endpoint} is not served at {Address}.");
            return;
        }

        RequestHead head;
        try
        {
            head = RequestHead.Read(message.Headers);
        }
        catch (Exception exception) when (exception is NatsProtocolException or FormatException)
        {
            Refuse(replyTo, PlexusErrorCode.ProtocolError, $"The request to {listener.Endpoint} has malformed headers: {exception.Message}");
            return;
        }

        if (head.Length > _options.MaxPayloadBytes)
        {
            Refuse(replyTo, PlexusErrorCode.PayloadTooLarge, $"The request payload is {head.Length} bytes, over the limit of {_options.MaxPayloadBytes} bytes; send less or raise {NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes))} on the server.");
            return;
        }

        if (message.Payload.Length > head.Length)
        {
            Refuse(replyTo, PlexusErrorCode.ProtocolError, $"The request carries {message.Payload.Length} bytes but announces {head.Length}.");
            return;
        }

        var payload = head.Length == 0 ? [] : _pool.Rent((int)head.Length);
        var exchange = new NatsServerExchange(
            _connection,
            _control,
            replyTo,
            listener.Endpoint,
            head.RequestId,
            head.Headers.Count == 0 ? NoHeaders : head.Headers,
            head.Deadline,
            head.Window,
            head.KeepAliveMs,
            payload,
            (int)head.Length);
        lock (_gate)
        {
            if (_state != ServerState.Running)
            {
                ReturnPayload(payload);
                Refuse(replyTo, PlexusErrorCode.Unavailable, _state == ServerState.Draining ? $"{Address} is draining and takes no new requests." : $"{Address} is not running.");
                return;
            }

            if (!_exchanges.TryAdd(replyTo, exchange))
            {
                ReturnPayload(payload);
                return;
            }
        }

        exchange.AddFirst(message.Payload);
        if (listener.Queued)
        {
            exchange.Accept();
        }

        if (exchange.Complete)
        {
            Run(exchange, current.Handler);
        }
        else
        {
            exchange.Touch();
        }
    }

    /// <summary>A control frame arrived (chunk, credit, cancel, ping); on the read loop.</summary>
    /// <param name="message">The frame; its reply-to names the request.</param>
    public void OnMessage(in NatsMessage message)
    {
        // 503s for frames sent to requesters that are gone come back here without a reply-to: nothing to do.
        if (message.ReplyTo.IsEmpty || message.ReplyTo.Length > 512)
        {
            return;
        }

        FrameHeader header;
        try
        {
            header = FrameHeader.Read(message.Headers);
        }
        catch (NatsProtocolException)
        {
            return;
        }

        Span<char> key = stackalloc char[512];
        Span<byte> bytes = stackalloc byte[512];
        message.ReplyTo.CopyTo(bytes);
        var length = Encoding.UTF8.GetChars(bytes[..(int)message.ReplyTo.Length], key);
        if (!_exchangesBySpan.TryGetValue(key[..length], out var exchange))
        {
            // Finished or unknown: a silent requester gives up on its own.
            return;
        }

        switch (header.Kind)
        {
            case FrameKind.Part:
                if (exchange.AddPart(header, message.Payload) is { } error)
                {
                    exchange.Abort(error, notifyClient: true);
                    DropIfNotStarted(exchange);
                }
                else if (exchange.Complete && _endpoints.TryGetValue(exchange.Endpoint, out var listener))
                {
                    Run(exchange, listener.Handler);
                }
                else if (exchange.Complete)
                {
                    exchange.Abort(new PlexusException(PlexusErrorCode.Unavailable, $"{exchange.Endpoint} stopped being served at {Address} while its request arrived.") { BeforeFirstByte = true }, notifyClient: true);
                    DropIfNotStarted(exchange);
                }

                break;
            case FrameKind.Credit:
                exchange.Grant(header.Credit);
                break;
            case FrameKind.Cancel:
                exchange.Abort(
                    header.ErrorCode == (int)PlexusErrorCode.Timeout
                        ? new PlexusException(PlexusErrorCode.Timeout, "The requester's deadline passed.")
                        : new PlexusException(PlexusErrorCode.Cancelled, "The requester cancelled the request."),
                    notifyClient: false);
                DropIfNotStarted(exchange);
                break;
            case FrameKind.Ping:
                exchange.Pong();
                break;
        }
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
                    _state = ServerState.Draining;
                    if (_exchanges.IsEmpty)
                    {
                        _drained.TrySetResult();
                    }

                    break;
            }
        }

        // Stop accepting: without subscriptions, new requests get "no responders" and can go elsewhere.
        foreach (var listener in _endpoints.Values)
        {
            UnsubscribeListener(listener);
        }

        try
        {
            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AbortInFlight($"{Address} stopped while draining before the request completed.", notifyClient: true);
        }

        await CloseAsync(drain: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_state == ServerState.Closed)
            {
                return;
            }

            _state = ServerState.Closed;
        }

        AbortInFlight($"{Address} stopped while the request was in flight.", notifyClient: true);

        // Unsubscribe and wait for the NATS server to confirm (one round trip, bounded): once this returns, a request
        // to this server gets "no responders" at once instead of vanishing into a closing socket.
        foreach (var listener in _endpoints.Values)
        {
            UnsubscribeListener(listener);
        }

        try
        {
            await _connection.FlushAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or TimeoutException)
        {
            // Not connected: nothing is subscribed on the NATS server anyway.
        }

        await CloseAsync(drain: false).ConfigureAwait(false);
    }

    /// <summary>Dies as a crashed process would: the socket is reset, nothing is said to anyone.</summary>
    internal void Kill()
    {
        lock (_gate)
        {
            _state = ServerState.Closed;
        }

        _connection.Abort();
        AbortInFlight($"{Address} was killed.", notifyClient: false);
        _sweep.Dispose();
        _drained.TrySetResult();
    }

    private static PlexusException ToClientError(Exception exception) => exception is PlexusException plexus
        ? new PlexusException(plexus.Code, plexus.Message) { BeforeFirstByte = plexus.BeforeFirstByte }
        : new PlexusException(PlexusErrorCode.HandlerError, exception.Message);

    private void Refuse(string replyTo, PlexusErrorCode code, string message)
    {
        Span<byte> header = stackalloc byte[192];
        var n = NatsWire.Small(header, NatsWire.Kind.Error, NatsWire.Seq, 0, NatsWire.ErrorCode, (long)code, refused: true);
        try
        {
            _connection.Publish(replyTo, _control, header[..n], new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(message)));
        }
        catch (NatsException)
        {
            // Gone: the requester's keep-alive ends its wait.
        }
    }

    // A request whose payload never completed has no handler to clean up after it.
    private void DropIfNotStarted(NatsServerExchange exchange)
    {
        if (exchange.HasEnded && exchange.TryClaimCleanup())
        {
            ReturnPayload(exchange.Payload);
            Finished(exchange);
        }
    }

    private void Run(NatsServerExchange exchange, IEndpointHandler handler)
    {
        if (!exchange.TryClaimCleanup())
        {
            return;
        }

        var context = new RequestContext(
            exchange.Endpoint,
            exchange.RequestId,
            new ReadOnlySequence<byte>(exchange.Payload, 0, exchange.Length),
            exchange.Headers,
            exchange.Deadline,
            exchange.RequestAborted);
        exchange.StartDeadline();

        // Off the read loop: a handler that blocks before its first await must not stop the connection. Queued to
        // this worker's own queue, so that it usually runs right after the read loop yields, without waking a thread.
        ThreadPool.UnsafeQueueUserWorkItem(
            static run => _ = run.Server.RunAsync(run.Exchange, run.Handler, run.Context),
            (Server: this, Exchange: exchange, Handler: handler, Context: context),
            preferLocal: true);
    }

    private async Task RunAsync(NatsServerExchange exchange, IEndpointHandler handler, RequestContext context)
    {
        var writer = new NatsResponseWriter(exchange, _pool, _options.MaxPayloadBytes);
        try
        {
            var handling = handler.HandleAsync(context, writer);
            if (!handling.IsCompleted)
            {
                // Past its first await: a message held back for the end frame must not wait for the handler.
                exchange.EndDeferral();
            }

            await handling.ConfigureAwait(false);
            await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            exchange.Finish(null);
        }
        catch (Exception exception)
        {
            // After an abort this does nothing: the requester already has the abort's error, or is gone.
            exchange.Finish(ToClientError(exception));
        }
        finally
        {
            writer.Dispose();
            ReturnPayload(exchange.Payload);
            Finished(exchange);
        }
    }

    private void ReturnPayload(byte[] payload)
    {
        if (payload.Length > 0)
        {
            _pool.Return(payload);
        }
    }

    private void Finished(NatsServerExchange exchange)
    {
        bool drained;
        lock (_gate)
        {
            _exchanges.TryRemove(new KeyValuePair<string, NatsServerExchange>(exchange.ReplyTo, exchange));
            drained = _state != ServerState.Running && _exchanges.IsEmpty;
        }

        if (drained)
        {
            _drained.TrySetResult();
        }
    }

    private void SubscribeListener(NatsEndpointListener listener)
    {
        try
        {
            listener.Subscription = _connection.Subscribe(
                NatsAddress.InstanceSubject(_options.SubjectPrefix, listener.Endpoint, listener.Instance),
                queueGroup: null,
                listener);
            if (listener.QueueListener is { } queued)
            {
                queued.Subscription = _connection.Subscribe(NatsAddress.QueueSubject(_options.SubjectPrefix, listener.Endpoint), _options.QueueGroup, queued);
            }
        }
        catch (NatsException exception)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Could not subscribe {listener.Endpoint} on NATS: {exception.Message}", exception);
        }
    }

    private void UnsubscribeListener(NatsEndpointListener listener)
    {
        if (listener.Subscription is { } subscription)
        {
            _connection.Unsubscribe(subscription);
        }

        if (listener.QueueListener?.Subscription is { } queued)
        {
            _connection.Unsubscribe(queued);
        }
    }

    private async Task CloseAsync(bool drain)
    {
        lock (_gate)
        {
            _state = ServerState.Closed;
        }

        await _sweep.DisposeAsync().ConfigureAwait(false);
        if (drain)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _connection.DrainAsync(grace.Token).ConfigureAwait(false);
        }
        else
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        _drained.TrySetResult();
    }

    private void AbortInFlight(string message, bool notifyClient)
    {
        foreach (var exchange in _exchanges.Values)
        {
            exchange.Abort(new PlexusException(PlexusErrorCode.Unavailable, message), notifyClient);
            DropIfNotStarted(exchange);
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
            DropIfNotStarted(exchange);
        }
    }
}
