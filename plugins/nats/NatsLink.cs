using System.Buffers;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// One connection to nats-server through NATS.Client.Core, as a transport's server or client uses it: subscriptions
/// whose messages reach a receiver on the read loop, publishes that fail at once instead of waiting out a reconnect,
/// the connection's state and last error for health, its events logged once with what to do, and a kill that drops
/// the socket without a word (the conformance kit's crashed process).
/// </summary>
internal sealed class NatsLink : IAsyncDisposable
{
    private static readonly NatsRawSerializer<ReadOnlySequence<byte>> Raw = NatsRawSerializer<ReadOnlySequence<byte>>.Default;

    private readonly ILogger _logger;
    private readonly string _role;
    private readonly Lock _gate = new();
    private INatsSocketConnection? _socket;
    private string _lastError = "not connected yet";
    private volatile bool _killed;
    private volatile bool _lameDuck;
    private int _opened;
    private bool _counted;

    /// <summary>Creates the link; nothing connects until <see cref="ConnectAsync"/> or the first subscription.</summary>
    /// <param name="options">The transport's options.</param>
    /// <param name="loggers">Where the client library and the link log.</param>
    /// <param name="role">"server" or "client", for log lines.</param>
    public NatsLink(NatsTransportOptions options, ILoggerFactory loggers, string role)
    {
        _logger = loggers.CreateLogger("Plexus.Transport.Nats");
        _role = role;
        Connection = new NatsConnection(options.ToNatsOpts(loggers));
        Connection.OnConnectingAsync = OnConnectingAsync;
        Connection.OnSocketAvailableAsync = OnSocketAvailableAsync;
        Connection.ConnectionOpened += OnOpenedAsync;
        Connection.ConnectionDisconnected += OnDisconnectedAsync;
        Connection.ReconnectFailed += OnReconnectFailedAsync;
        Connection.ServerError += OnServerErrorAsync;
        Connection.LameDuckModeActivated += OnLameDuckAsync;
    }

    /// <summary>Raised once per lost connection, with the reason; not on disposal.</summary>
    public event Action<string>? Disconnected;

    /// <summary>The connection.</summary>
    public NatsConnection Connection { get; }

    /// <summary>Whether the connection is up now.</summary>
    public bool IsConnected => Connection.ConnectionState == NatsConnectionState.Open;

    /// <summary>Whether the server this link is on announced lame-duck mode.</summary>
    public bool LameDuck => _lameDuck;

    /// <summary>What last went wrong, for health messages.</summary>
    public string LastError
    {
        get
        {
            lock (_gate)
            {
                return _lastError;
            }
        }
    }

    /// <summary>The largest message (headers and payload) nats-server takes; 1 MiB, its default, before the first connection.</summary>
    public int MaxPayload => Connection.ServerInfo?.MaxPayload is > 0 and var max ? max : 1024 * 1024;

    /// <summary>Connects, or waits for the connection under way.</summary>
    /// <param name="cancellationToken">Gives up waiting.</param>
    /// <returns>A task that completes once connected.</returns>
    /// <exception cref="NatsException">nats-server could not be reached or refused the connection.</exception>
    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            var description = Describe(exception);
            if (description.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase))
            {
                description += " nats-server refused the credentials: check Token, User and Password, NKeyFile or CredsFile under Plexus:Transports:Nats.";
            }

            lock (_gate)
            {
                _lastError = description;
            }

            throw new NatsException(description, exception);
        }
    }

    /// <summary>Subscribes a receiver; the subscription goes out before anything published after this returns.</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="queueGroup">The queue group, or <see langword="null"/>.</param>
    /// <param name="receiver">Where messages go.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>The subscription; dispose it to unsubscribe.</returns>
    public async ValueTask<NatsSubscription> SubscribeAsync(string subject, string? queueGroup, INatsMessageReceiver receiver, CancellationToken cancellationToken)
    {
        var subscription = new NatsSubscription(Connection, subject, queueGroup, receiver);
        await Connection.AddSubAsync(subscription, cancellationToken).ConfigureAwait(false);
        return subscription;
    }

    /// <summary>Waits until nats-server has processed everything sent before (one round trip).</summary>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>A task that completes with the server's answer.</returns>
    public async ValueTask ConfirmAsync(CancellationToken cancellationToken)
    {
        if (!IsConnected)
        {
            throw new NatsException($"Not connected to NATS: {LastError}");
        }

        await Connection.PingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes one message. While the connection is down it fails at once (the caller's request is failing anyway,
    /// or it may go elsewhere) rather than waiting for the reconnect; while the outbox is full the task waits.
    /// </summary>
    /// <param name="subject">The subject.</param>
    /// <param name="replyTo">The reply subject, or <see langword="null"/>.</param>
    /// <param name="headers">The headers, or <see langword="null"/>. Written before this returns: the caller may reuse the object at once.</param>
    /// <param name="payload">The payload, copied before this returns.</param>
    /// <param name="cancellationToken">Gives up waiting for room.</param>
    /// <returns>A task that completes once the message is in the outbox.</returns>
    /// <exception cref="NatsException">Not connected, or the message is larger than nats-server takes.</exception>
    public ValueTask PublishAsync(string subject, string? replyTo, NatsHeaders? headers, in ReadOnlySequence<byte> payload, CancellationToken cancellationToken = default)
    {
        if (!IsConnected)
        {
            return ValueTask.FromException(new NatsException($"Not connected to NATS: {LastError}"));
        }

        try
        {
            return Connection.PublishAsync(subject, payload, headers, replyTo, Raw, opts: null, cancellationToken);
        }
        catch (Exception exception) when (exception is NatsException or ObjectDisposedException)
        {
            return ValueTask.FromException(exception as NatsException ?? new NatsException("The NATS connection is closed.", exception));
        }
    }

    /// <summary>Publishes without waiting: for replies whose loss the protocol tolerates (pongs, refusals, cancels).</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="replyTo">The reply subject, or <see langword="null"/>.</param>
    /// <param name="headers">The headers, or <see langword="null"/>; reusable at once.</param>
    /// <param name="payload">The payload, copied before this returns.</param>
    public void Post(string subject, string? replyTo, NatsHeaders? headers, in ReadOnlySequence<byte> payload) =>
        Observe(PublishAsync(subject, replyTo, headers, payload));

    /// <summary>Observes a publish nobody waits for, so that its failure is not left unobserved.</summary>
    /// <param name="publish">The publish.</param>
    public static void Observe(ValueTask publish)
    {
        if (publish.IsCompleted)
        {
            if (!publish.IsCompletedSuccessfully)
            {
                _ = publish.AsTask().Exception;
            }

            return;
        }

        _ = ObserveAsync(publish);

        static async Task ObserveAsync(ValueTask publish)
        {
            try
            {
                await publish.ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NatsException or ObjectDisposedException or OperationCanceledException)
            {
                // Lost with the connection: the request it belonged to fails through the disconnect or its keep-alive.
            }
        }
    }

    /// <summary>Drops the socket without a word and never reconnects, as a crashed process would.</summary>
    public void Kill()
    {
        _killed = true;
        INatsSocketConnection? socket;
        lock (_gate)
        {
            socket = _socket;
            _socket = null;
        }

        if (socket is not null)
        {
            _ = socket.DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NatsException or ObjectDisposedException or IOException)
            {
                // Already dying.
            }
        });
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or ObjectDisposedException or OperationCanceledException or IOException or System.Net.Sockets.SocketException)
        {
            // The client unsubscribes on the way out and can time out doing so (its outbox full, or the link half
            // gone); the connection is closed all the same, and disposal never throws.
        }
        lock (_gate)
        {
            if (_counted)
            {
                _counted = false;
                NatsMetrics.ConnectionClosed();
            }
        }
    }

    private static string Describe(Exception exception)
    {
        var message = exception.Message;
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!message.Contains(inner.Message, StringComparison.Ordinal))
            {
                message = $"{message} ({inner.Message})";
            }
        }

        return message;
    }

    // A killed link must not come back: every reconnect is pointed at a port nobody listens on.
    private ValueTask<(string Host, int Port)> OnConnectingAsync((string Host, int Port) target) =>
        ValueTask.FromResult(_killed ? ("127.0.0.1", 1) : target);

    private ValueTask<INatsSocketConnection> OnSocketAvailableAsync(INatsSocketConnection socket)
    {
        lock (_gate)
        {
            _socket = socket;
        }

        return ValueTask.FromResult(socket);
    }

    private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        var again = Interlocked.Increment(ref _opened) > 1;
        lock (_gate)
        {
            if (!_counted)
            {
                _counted = true;
                NatsMetrics.ConnectionOpened();
            }
        }

        _lameDuck = false;
        var server = Connection.ServerInfo is { } info ? $"{info.Host}:{info.Port}" : args.Message;
        if (again)
        {
            NatsMetrics.Reconnected();
            NatsLog.Reconnected(_logger, _role, server);
        }
        else
        {
            NatsLog.Connected(_logger, _role, server, MaxPayload);
        }

        return default;
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        lock (_gate)
        {
            _lastError = string.IsNullOrEmpty(args.Message) ? "the connection was lost" : args.Message;
            if (_counted)
            {
                _counted = false;
                NatsMetrics.ConnectionClosed();
            }
        }

        if (!_killed && Connection.ConnectionState != NatsConnectionState.Closed)
        {
            NatsLog.Disconnected(_logger, _role, LastError);
        }

        Disconnected?.Invoke(LastError);
        return default;
    }

    private ValueTask OnReconnectFailedAsync(object? sender, NatsEventArgs args)
    {
        lock (_gate)
        {
            _lastError = args.Message;
        }

        if (!_killed)
        {
            NatsLog.ReconnectFailed(_logger, _role, args.Message);
        }

        return default;
    }

    private ValueTask OnServerErrorAsync(object? sender, NatsServerErrorEventArgs args)
    {
        lock (_gate)
        {
            _lastError = $"nats-server said: {args.Error}";
        }

        NatsLog.ServerError(_logger, _role, args.Error);
        return default;
    }

    private ValueTask OnLameDuckAsync(object? sender, NatsLameDuckModeActivatedEventArgs args)
    {
        _lameDuck = true;
        NatsLog.LameDuck(_logger, _role, args.Uri);
        return default;
    }
}
