using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// A NATS connection that survives the loss of its server: subscriptions are restored on every new link before any
/// other traffic, publishes are buffered (within a bound) while disconnected, and a keep-alive ping detects a silent
/// server. Thread-safe. Message handlers run on the read loop, and what they publish in reply is not held back by
/// <see cref="NatsConnectionOptions.MaxPendingBytes"/>; so once twice that waits to be written, the read loop stops
/// reading until the server has taken the outbox down to the bound: a server that does not read is sent no more
/// replies than that, and is dropped by the keep-alive ping.
/// </summary>
internal sealed partial class NatsConnection : IAsyncDisposable
{
    private static readonly EventId DisconnectedEvent = new(3101, "NatsDisconnected");
    private static readonly EventId ReconnectedEvent = new(3102, "NatsReconnected");
    private static readonly EventId ReconnectFailedEvent = new(3103, "NatsReconnectFailed");
    private static readonly EventId ServerErrorEvent = new(3104, "NatsServerError");
    private static readonly EventId LameDuckEvent = new(3105, "NatsLameDuck");
    private static readonly EventId HandlerFailedEvent = new(3106, "NatsHandlerFailed");

    private readonly NatsConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly NatsOutbox _outbox;
    private readonly long _stopReadingAt;
    private readonly NatsServerPool _pool;
    private readonly ConcurrentDictionary<long, NatsSubscription> _subscriptions = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();
    private readonly Timer _pingTimer;
    private readonly Lazy<NatsRequester> _requester;
    private long _nextSid;
    private NatsLink? _link;
    private NatsConnectionState _state;
    private NatsServerInfo? _info;
    private string _lastError = string.Empty;
    private Task _reconnecting = Task.CompletedTask;

    /// <summary>Creates a connection; <see cref="ConnectAsync"/> makes the first link.</summary>
    /// <param name="options">Servers, credentials, TLS, timeouts.</param>
    /// <param name="logger">Where connection events are logged.</param>
    public NatsConnection(NatsConnectionOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _outbox = new NatsOutbox(options.MaxPendingBytes, options.ReconnectBufferBytes);
        _stopReadingAt = 2 * options.MaxPendingBytes;
        _pool = new NatsServerPool(options.Servers, options.TlsRequired);
        _pingTimer = new Timer(static state => ((NatsConnection)state!).OnPingTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _requester = new Lazy<NatsRequester>(() => new NatsRequester(this), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Raised (on the thread pool) when the link is lost; the argument says why.</summary>
    public event Action<string>? Disconnected;

    /// <summary>Raised (on the thread pool) when a new link is up and subscriptions are restored.</summary>
    public event Action? Reconnected;

    /// <summary>Raised (on the thread pool) when the server announces lame-duck mode.</summary>
    public event Action? LameDuck;

    /// <summary>Where the connection is in its life.</summary>
    public NatsConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The server's latest INFO, once connected.</summary>
    public NatsServerInfo? ServerInfo
    {
        get
        {
            lock (_gate)
            {
                return _info;
            }
        }
    }

    /// <summary>The largest message (headers and payload) the server accepts.</summary>
    public long MaxPayload => ServerInfo?.MaxPayload ?? 1024 * 1024;

    /// <summary>Why the last link died or the last attempt failed; empty when none did.</summary>
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

    /// <summary>The server currently connected to, if any.</summary>
    public Uri? ConnectedServer
    {
        get
        {
            lock (_gate)
            {
                return _state == NatsConnectionState.Connected ? _link?.Server : null;
            }
        }
    }

    /// <summary>The servers known: configured, then discovered.</summary>
    public IReadOnlyList<Uri> KnownServers => _pool.Servers;

    /// <summary>Bytes appended and not yet written to the socket.</summary>
    public long PendingBytes => _outbox.Pending;

    /// <summary>A fresh inbox prefix, unique to this process: <c>_INBOX.&lt;22 random characters&gt;</c>.</summary>
    /// <returns>The prefix.</returns>
    public static string NewInbox()
    {
        const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        Span<byte> random = stackalloc byte[22];
        RandomNumberGenerator.Fill(random);
        Span<char> chars = stackalloc char[22];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[random[i] % Alphabet.Length];
        }

        return $"_INBOX.{chars}";
    }

    /// <summary>Connects to the first server that answers, trying each configured one once.</summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>A task that completes when connected.</returns>
    /// <exception cref="NatsException">No server could be connected to; the message has each server's reason.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_state == NatsConnectionState.Closed, this);
            if (_state != NatsConnectionState.Created)
            {
                throw new InvalidOperationException("The connection was already started.");
            }

            _state = NatsConnectionState.Connecting;
        }

        var errors = new List<string>();
        NatsException? last = null;
        foreach (var server in _pool.Servers)
        {
            try
            {
                var link = await NatsLink.ConnectAsync(server, _options, ActiveSubscriptions(), HandleFrame, cancellationToken).ConfigureAwait(false);
                if (Activate(link))
                {
                    return;
                }

                link.Dispose();
                throw new ObjectDisposedException(nameof(NatsConnection));
            }
            catch (NatsException exception)
            {
                last = exception;
                errors.Add(exception.Message);
                if (exception.Kind == NatsErrorKind.Authorization)
                {
                    // Every server of a cluster checks the same credentials; trying the rest only delays the answer.
                    break;
                }
            }
        }

        lock (_gate)
        {
            _state = NatsConnectionState.Created;
            _lastError = string.Join(" ", errors);
        }

        throw new NatsException(last?.Kind ?? NatsErrorKind.Connection, string.Join(" ", errors), last);
    }

    /// <summary>Subscribes; the subscription is restored after every reconnect until unsubscribed.</summary>
    /// <param name="subject">The subject, wildcards allowed.</param>
    /// <param name="queueGroup">A queue group, or <see langword="null"/>.</param>
    /// <param name="handler">Where messages go.</param>
    /// <returns>The subscription.</returns>
    public NatsSubscription Subscribe(string subject, string? queueGroup, INatsMessageHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new NatsSubscription(Interlocked.Increment(ref _nextSid), subject, queueGroup, handler);
        _subscriptions[subscription.Sid] = subscription;
        _outbox.Subscribe(subject, queueGroup, subscription.Sid);
        return subscription;
    }

    /// <summary>Unsubscribes; messages already on their way are dropped.</summary>
    /// <param name="subscription">The subscription.</param>
    public void Unsubscribe(NatsSubscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        lock (_gate)
        {
            if (subscription.Retired || !_subscriptions.ContainsKey(subscription.Sid))
            {
                return;
            }

            subscription.Retired = true;
        }

        try
        {
            _outbox.Unsubscribe(subscription.Sid);
        }
        catch (NatsException)
        {
            // Closed: the server forgets every subscription with the connection anyway.
        }

        // Messages already on their way still reach the handler until the server confirms it processed the UNSUB.
        Task confirmed;
        try
        {
            confirmed = FlushAsync(CancellationToken.None);
        }
        catch (NatsException)
        {
            confirmed = Task.CompletedTask;
        }

        confirmed.ContinueWith(
            static (done, state) =>
            {
                var (subscriptions, sid) = ((ConcurrentDictionary<long, NatsSubscription>, long))state!;
                subscriptions.TryRemove(sid, out var removed);
            },
            (_subscriptions, subscription.Sid),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Publishes without waiting for room: for small control messages, and from message handlers.</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="replyTo">The reply subject, or <see langword="null"/>.</param>
    /// <param name="headers">The header block (from <see cref="NatsHeaderWriter"/>), or empty.</param>
    /// <param name="payload">The payload.</param>
    /// <exception cref="NatsException">Closed, or disconnected with a full reconnect buffer, or over max_payload.</exception>
    public void Publish(string subject, string? replyTo, ReadOnlySpan<byte> headers, in ReadOnlySequence<byte> payload)
    {
        CheckSize(headers.Length + payload.Length);
        _outbox.Publish(subject, replyTo, headers, payload);
    }

    /// <summary>Publishes, first waiting while too much is waiting to be written (back-pressure).</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="replyTo">The reply subject, or <see langword="null"/>.</param>
    /// <param name="headers">The header block, or empty.</param>
    /// <param name="payload">The payload; copied before the task completes.</param>
    /// <param name="cancellationToken">Cancels the wait for room.</param>
    /// <returns>A task that completes when the message is appended.</returns>
    public ValueTask PublishAsync(string subject, string? replyTo, ReadOnlyMemory<byte> headers, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var size = headers.Length + payload.Length;
        CheckSize(size);
        var room = _outbox.WaitForRoomAsync(size, cancellationToken);
        if (room.IsCompletedSuccessfully)
        {
            room.GetAwaiter().GetResult();
            _outbox.Publish(subject, replyTo, headers.Span, payload);
            return default;
        }

        return PublishAfterRoomAsync(room, subject, replyTo, headers, payload);
    }

    /// <summary>Waits while too much is waiting to be written; fails when disconnected with a full reconnect buffer.</summary>
    /// <param name="bytes">The size about to be published.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when there is room.</returns>
    public ValueTask WaitForRoomAsync(long bytes, CancellationToken cancellationToken) => _outbox.WaitForRoomAsync(bytes, cancellationToken);

    /// <summary>Sends a request and waits for one reply, through one shared inbox subscription.</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="headers">The header block, or empty.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="timeout">How long to wait for the reply.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The reply.</returns>
    /// <exception cref="NatsException">No responders (fails at once), a timeout, or the connection failed.</exception>
    public Task<NatsReply> RequestAsync(string subject, ReadOnlyMemory<byte> headers, ReadOnlySequence<byte> payload, TimeSpan timeout, CancellationToken cancellationToken) =>
        _requester.Value.RequestAsync(subject, headers, payload, timeout, cancellationToken);

    /// <summary>Round trip to the server: completes when everything appended before it has been processed by the server.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes on PONG.</returns>
    /// <exception cref="NatsException">Not connected, or the link died before PONG.</exception>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_state != NatsConnectionState.Connected && _state != NatsConnectionState.Draining || _link is null)
            {
                throw new NatsException(NatsErrorKind.Connection, $"Not connected to NATS ({_state}); cannot flush.");
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _link.PongWaiters.Enqueue(waiter);
            _outbox.Control("PING\r\n"u8);
        }

        return waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Drains: unsubscribes everything, waits until the server has processed it and everything buffered is written, then closes.</summary>
    /// <param name="cancellationToken">When it fires, the connection closes at once.</param>
    /// <returns>A task that completes when closed.</returns>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_state is NatsConnectionState.Closed or NatsConnectionState.Draining)
            {
                return;
            }

            _state = _state == NatsConnectionState.Connected ? NatsConnectionState.Draining : _state;
        }

        foreach (var subscription in ActiveSubscriptions())
        {
            Unsubscribe(subscription);
        }

        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or OperationCanceledException)
        {
            // Not connected or out of time: close without the round trip.
        }

        await CloseAsync(graceful: !cancellationToken.IsCancellationRequested).ConfigureAwait(false);
    }

    /// <summary>Closes abruptly, as a crashed process would: no unsubscribe, no flush, the socket reset.</summary>
    public void Abort()
    {
        if (!TryMarkClosed(out var link))
        {
            return;
        }

        _closing.Cancel();
        _pingTimer.Dispose();
        link?.Abort();
        _outbox.Close();
        if (link is not null)
        {
            FailWaiters(link, "The connection was aborted.");
        }

        if (_requester.IsValueCreated)
        {
            _requester.Value.FailAll(new NatsException(NatsErrorKind.Closed, "The NATS connection was closed."));
        }
    }

    /// <summary>Closes: what is already buffered is written (briefly waited for), then the socket closes.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync() => await CloseAsync(graceful: true).ConfigureAwait(false);

    /// <summary>Moves to Closed once, detaching the live link (if any); false when already closed.</summary>
    private bool TryMarkClosed(out NatsLink? link)
    {
        lock (_gate)
        {
            link = null;
            if (_state == NatsConnectionState.Closed)
            {
                return false;
            }

            _state = NatsConnectionState.Closed;
            link = _link;
            _link = null;
        }

        if (link is not null)
        {
            NatsMetrics.ConnectionClosed();
        }

        return true;
    }

    private List<NatsSubscription> ActiveSubscriptions()
    {
        var active = new List<NatsSubscription>(_subscriptions.Count);
        foreach (var subscription in _subscriptions.Values)
        {
            if (!subscription.Retired)
            {
                active.Add(subscription);
            }
        }

        return active;
    }

    private static int Jitter(TimeSpan jitter) =>
        jitter <= TimeSpan.Zero ? 0 : Random.Shared.Next((int)Math.Min(int.MaxValue, jitter.TotalMilliseconds) + 1);

    private async ValueTask PublishAfterRoomAsync(ValueTask room, string subject, string? replyTo, ReadOnlyMemory<byte> headers, ReadOnlySequence<byte> payload)
    {
        await room.ConfigureAwait(false);
        _outbox.Publish(subject, replyTo, headers.Span, payload);
    }

    private void CheckSize(long size)
    {
        var max = MaxPayload;
        if (size > max)
        {
            throw new NatsException(NatsErrorKind.PayloadTooLarge, $"A message of {size} bytes exceeds the server's max_payload of {max} bytes.");
        }
    }

    private async Task CloseAsync(bool graceful)
    {
        if (!TryMarkClosed(out var link))
        {
            return;
        }

        _pingTimer.Dispose();

        // Closing the outbox lets the write loop finish what is buffered, then end.
        _outbox.Close();
        if (link is not null && graceful)
        {
            try
            {
                await link.WriteLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        _closing.Cancel();
        if (link is not null)
        {
            link.Dispose();
            FailWaiters(link, "The connection was closed.");
        }

        try
        {
            await _reconnecting.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_requester.IsValueCreated)
        {
            _requester.Value.FailAll(new NatsException(NatsErrorKind.Closed, "The NATS connection was closed."));
        }
    }
}
