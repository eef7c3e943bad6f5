using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Plexus.Transport.Nats;

/// <summary>
/// The requester's side of one request: frames arrive on the read loop (<see cref="OnFrame"/>), are checked for gaps,
/// copied into pooled buffers and queued; the reader takes them with <see cref="MoveNextAsync"/>, which grants the
/// server more credit as it moves past them. Cancellation, the deadline and a silent server each end the request with
/// a typed error and tell the server. This file holds the reader's side; <c>NatsResponseStream.Frames.cs</c> what arrives.
/// </summary>
internal sealed partial class NatsResponseStream : IResponseStream, IValueTaskSource<bool>
{
    private readonly NatsClient _client;
    private readonly ArrayPool<byte> _pool = BoundedArrayPool.Instance;
    private readonly Lock _gate = new();
    private readonly Queue<ReceivedMessage> _queue = new();
    private readonly long _window;
    private readonly long _maxMessage;
    private readonly long _keepAliveMs;
    private readonly DateTimeOffset? _deadline;
    private readonly string _control;
    private ManualResetValueTaskSourceCore<bool> _core;
    private bool _waiting;

    // Under the lock: a frame being applied wakes the reader later, from WakeDeferred, not from here.
    private bool _deferWake;

    // The reader was due a wake while _deferWake was set.
    private bool _wakeOwed;
    private long _consumed;
    private long _granted;
    private long _lastReceived;
    private long _lastSent;
    private bool _receivedAny;
    private bool _sentControl;
    private bool _sendingParts;
    private bool _ended;
    private PlexusException? _completionError;
    private Exception? _abortError;
    private CancellationToken _requestToken;
    private CancellationTokenRegistration _requestRegistration;
    private Timer? _deadlineTimer;
    private ReceivedMessage _current;
    private bool _hasCurrent;
    private bool _disposed;
    private HeadBatch? _batch;

    // The packed frame the reader is in (its own once dequeued): the next message's offset, the messages left, and
    // the credit of those it moved past, counted under the lock in steps rather than per message.
    private byte[]? _run;
    private int _runOffset;
    private int _runLeft;
    private long _runCredit;
    private bool _currentInRun;
    private int _currentOffset;

    /// <summary>Creates the stream of a request about to be sent.</summary>
    /// <param name="client">The client that owns it.</param>
    /// <param name="id">Its number under the client's inbox.</param>
    /// <param name="inbox">Its reply subject.</param>
    /// <param name="control">The server's control subject.</param>
    /// <param name="endpoint">The endpoint, for messages.</param>
    /// <param name="deadline">The request's deadline.</param>
    /// <param name="options">Limits and intervals.</param>
    public NatsResponseStream(NatsClient client, long id, string inbox, string control, EndpointAddress endpoint, DateTimeOffset? deadline, NatsTransportOptions options)
    {
        _client = client;
        Id = id;
        Inbox = inbox;
        Endpoint = endpoint;
        _deadline = deadline;
        _window = options.WindowBytes;
        _maxMessage = options.MaxPayloadBytes;
        _keepAliveMs = (long)options.KeepAliveInterval.TotalMilliseconds;
        _control = control;
        _core.RunContinuationsAsynchronously = true;
        _lastReceived = _lastSent = Environment.TickCount64;
    }

    /// <summary>Its number under the client's inbox.</summary>
    public long Id { get; }

    /// <summary>Its reply subject: where the server sends frames, and the key the server knows it by.</summary>
    public string Inbox { get; }

    /// <summary>The endpoint called.</summary>
    public EndpointAddress Endpoint { get; }

    /// <summary>The server's address, which learns from the answers whether the server reads <c>heads</c> frames.</summary>
    public NatsAddress? Target { get; init; }

    /// <summary>Joins the <c>heads</c> frame its head is sent in.</summary>
    /// <param name="batch">The batch.</param>
    public void JoinBatch(HeadBatch batch) => Volatile.Write(ref _batch, batch);

    /// <summary>Whether the request is still waiting in <paramref name="batch"/> for its first answer.</summary>
    /// <param name="batch">The batch.</param>
    /// <returns>True while it is.</returns>
    public bool IsIn(HeadBatch batch) => ReferenceEquals(Volatile.Read(ref _batch), batch);

    /// <summary>Leaves its batch once answered or ended.</summary>
    /// <returns>The batch it left, or <see langword="null"/>.</returns>
    public HeadBatch? LeaveBatch() => Volatile.Read(ref _batch) is null ? null : Interlocked.Exchange(ref _batch, null);

    /// <inheritdoc />
    public ReadOnlySequence<byte> Current => _currentInRun ? new ReadOnlySequence<byte>(_run!, _currentOffset, _current.Length) : _current.AsSequence();

    /// <summary>Whether the stream has ended, either way.</summary>
    public bool HasEnded
    {
        get
        {
            lock (_gate)
            {
                return _ended;
            }
        }
    }

    /// <summary>Called once the request head is published: starts the deadline clock and ties the request token to the stream.</summary>
    /// <param name="requestToken">The token given to SendAsync.</param>
    public void Started(CancellationToken requestToken)
    {
        _requestToken = requestToken;
        lock (_gate)
        {
            // The keep-alive clock starts when the head is out; a ping before the server could answer would make a
            // "no responders" for the head look like one for the ping.
            _lastSent = _lastReceived = Environment.TickCount64;
        }

        if (_deadline is { } deadline)
        {
            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                Fail(DeadlinePassed(), cancelServer: true);
            }
            else if (remaining < TimeSpan.FromDays(40))
            {
                var timer = new Timer(static s => ((NatsResponseStream)s!).Fail(((NatsResponseStream)s!).DeadlinePassed(), cancelServer: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                lock (_gate)
                {
                    _deadlineTimer = timer;
                }

                timer.Change(remaining, Timeout.InfiniteTimeSpan);
            }
        }

        if (requestToken.CanBeCanceled)
        {
            _requestRegistration = requestToken.UnsafeRegister(static s => ((NatsResponseStream)s!).Fail(ClientCancelled(), cancelServer: true), this);
        }
    }

    /// <summary>Fails the request at once (disorderly): the reader's next read throws <paramref name="error"/>.</summary>
    /// <param name="error">The error.</param>
    /// <param name="cancelServer">Whether to tell the server to stop.</param>
    public void Fail(Exception error, bool cancelServer)
    {
        Timer? timer;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _abortError = error;
            ReturnAssembly();
            timer = _deadlineTimer;
            _deadlineTimer = null;
            Wake();
        }

        timer?.Dispose();
        if (cancelServer)
        {
            var code = error is PlexusException plexus ? plexus.Code : PlexusErrorCode.Cancelled;
            SendControl(NatsWire.Names.Cancel, NatsWire.Names.ErrorCode, (long)code);
        }

        _client.Ended(this);
    }

    /// <summary>
    /// Tells the server again to stop a request that ended while its head waited to be published with others: the
    /// cancel it sent then reached the server before the head, which ignored it.
    /// </summary>
    public void CancelAgainIfEnded()
    {
        Exception? error;
        lock (_gate)
        {
            if (!_ended)
            {
                return;
            }

            error = _abortError;
        }

        var code = error is PlexusException plexus ? plexus.Code : PlexusErrorCode.Cancelled;
        SendControl(NatsWire.Names.Cancel, NatsWire.Names.ErrorCode, (long)code);
    }

    /// <summary>
    /// Marks the time the request's chunks are being sent. A ping goes out behind the chunks queued before it, so the
    /// server cannot answer it sooner: its silence is counted from when the last chunk was handed over. A server that
    /// is gone meanwhile is still noticed, by the "no responders" NATS answers to the chunks and pings.
    /// </summary>
    /// <param name="sending">Whether chunks are being sent.</param>
    public void SendingParts(bool sending)
    {
        lock (_gate)
        {
            _sendingParts = sending;
            if (!sending)
            {
                _lastReceived = Math.Max(_lastReceived, Environment.TickCount64);
            }
        }
    }

    /// <summary>Keep-alive: pings a quiet server and fails the request when the server has been silent too long.</summary>
    /// <param name="now">The tick count now.</param>
    public void Sweep(long now)
    {
        long credit;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            if (!_sendingParts && now - _lastReceived >= 3 * _keepAliveMs)
            {
                credit = -2;
            }
            else if (now - _lastSent >= (_receivedAny ? _keepAliveMs : 2 * _keepAliveMs))
            {
                credit = _consumed > _granted ? _consumed : -1;
                if (credit >= 0)
                {
                    _granted = credit;
                }
            }
            else
            {
                return;
            }
        }

        if (credit == -2)
        {
            Fail(new PlexusException(PlexusErrorCode.Unavailable, $"The server serving {Endpoint} has been silent for {3 * _keepAliveMs} ms; it is presumed dead."), cancelServer: true);
        }
        else if (credit >= 0)
        {
            SendControl(NatsWire.Names.CreditKind, NatsWire.Names.Credit, credit);
        }
        else
        {
            SendControl(NatsWire.Names.Ping);
        }
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ReleaseCurrent();
        if (cancellationToken.IsCancellationRequested)
        {
            Fail(ClientCancelled(), cancelServer: true);
            throw new OperationCanceledException("The read was cancelled, and with it the request.", cancellationToken);
        }

        // The next message of a packed frame already taken needs no lock.
        if (_runLeft > 0 && !_requestToken.IsCancellationRequested && Volatile.Read(ref _abortError) is null)
        {
            TakeFromRun();
            return true;
        }

        while (true)
        {
            short version;
            lock (_gate)
            {
                if (_requestToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The request was cancelled by the token given to SendAsync.", _requestToken);
                }

                if (_abortError is not null)
                {
                    throw _abortError;
                }

                if (_runLeft > 0)
                {
                    TakeFromRun();
                    return true;
                }

                if (_queue.TryDequeue(out var message))
                {
                    if (message.Count > 0)
                    {
                        _run = message.Buffer;
                        _runOffset = 0;
                        _runLeft = message.Count;
                        TakeFromRun();
                        return true;
                    }

                    _current = message;
                    _hasCurrent = true;
                    return true;
                }

                if (_ended)
                {
                    return _completionError is null ? false : throw _completionError;
                }

                _core.Reset();
                _waiting = true;
                version = _core.Version;
            }

            // Abort from the canceller's thread, so the server hears of it at once even when the pool is busy.
            using (cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static s => ((NatsResponseStream)s!).Fail(ClientCancelled(), cancelServer: true), this)
                : default)
            {
                await new ValueTask<bool>(this, version).ConfigureAwait(false);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                Fail(ClientCancelled(), cancelServer: true);
                throw new OperationCanceledException("The read was cancelled, and with it the request.", cancellationToken);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return default;
        }

        _disposed = true;
        bool wasEnded;
        Timer? timer;
        lock (_gate)
        {
            wasEnded = _ended;
            _ended = true;
            _abortError ??= new PlexusException(PlexusErrorCode.Cancelled, "The response stream was disposed.");
            while (_queue.TryDequeue(out var message))
            {
                message.ReturnTo(_pool);
            }

            ReturnAssembly();
            timer = _deadlineTimer;
            _deadlineTimer = null;
            Wake();
        }

        timer?.Dispose();
        if (_hasCurrent)
        {
            if (!_currentInRun)
            {
                _current.ReturnTo(_pool);
            }

            _current = default;
            _hasCurrent = false;
            _currentInRun = false;
        }

        if (_run is not null)
        {
            _pool.Return(_run);
            _run = null;
            _runLeft = 0;
        }

        _requestRegistration.Dispose();
        if (!wasEnded)
        {
            // Disposing before the end cancels the request on the server.
            SendControl(NatsWire.Names.Cancel, NatsWire.Names.ErrorCode, (long)PlexusErrorCode.Cancelled);
        }

        _client.Ended(this);
        return default;
    }

    /// <inheritdoc />
    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    /// <inheritdoc />
    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private static PlexusException ClientCancelled() => new(PlexusErrorCode.Cancelled, "The client cancelled the request.");

    private PlexusException DeadlinePassed() => new(
        PlexusErrorCode.Timeout,
        $"The request's deadline ({_deadline?.ToString("O", CultureInfo.InvariantCulture)}) passed before it completed.");

    private void TakeTimer()
    {
        var timer = _deadlineTimer;
        _deadlineTimer = null;
        timer?.Dispose();
    }

    private void ReleaseCurrent()
    {
        if (!_hasCurrent)
        {
            return;
        }

        var current = _current;
        _current = default;
        _hasCurrent = false;
        long credit;
        if (_currentInRun)
        {
            // Each packed message is credited as a data frame's message is; the frame's array goes back after its last.
            _currentInRun = false;
            _runCredit += current.Length + NatsWire.FrameCost;
            if (_runLeft > 0 && _runCredit < RunCreditStep)
            {
                return;
            }

            if (_runLeft == 0)
            {
                _pool.Return(_run!);
                _run = null;
            }

            credit = _runCredit;
            _runCredit = 0;
        }
        else
        {
            current.ReturnTo(_pool);
            credit = current.Credited ? 0 : current.Length + NatsWire.FrameCost;
        }

        if (credit == 0)
        {
            return;
        }

        long grant = -1;
        lock (_gate)
        {
            if (!_ended)
            {
                _consumed += credit;
                grant = TakeGrant();
            }
        }

        if (grant >= 0)
        {
            SendControl(NatsWire.Names.CreditKind, NatsWire.Names.Credit, grant);
        }
    }

    // The credit of packed messages moved past is counted at most this late (and at the latest with the frame's last).
    private long RunCreditStep => Math.Max(1, _window / 16);

    // Takes the next message of the packed frame the reader is in; the frame was checked whole when it arrived.
    private void TakeFromRun()
    {
        var length = PackedMessages.LengthAt(_run!, _runOffset);
        _currentOffset = _runOffset + PackedMessages.PrefixBytes;
        _current = new ReceivedMessage(_run, length, Credited: false);
        _currentInRun = true;
        _hasCurrent = true;
        _runOffset = _currentOffset + length;
        _runLeft--;
    }

    private void Wake()
    {
        if (_waiting)
        {
            _waiting = false;
            if (_deferWake)
            {
                _wakeOwed = true;
                return;
            }

            // Never inline under the lock (the caller's code would run holding it); set on every wake, since
            // WakeDeferred clears it for its own.
            _core.RunContinuationsAsynchronously = true;
            _core.SetResult(true);
        }
    }

    /// <summary>
    /// Wakes a reader that <see cref="OnFrame(FrameHeader, in ReadOnlySequence{byte}, bool)"/> owed a wake, running its
    /// continuation on this thread (a work item of its own, never the read loop, and no lock held). Nothing else
    /// completes this wait meanwhile, since the wake was taken under the lock; every other wake sets the continuation
    /// to run asynchronously again.
    /// </summary>
    public void WakeDeferred()
    {
        lock (_gate)
        {
            if (!_wakeOwed)
            {
                return;
            }

            _wakeOwed = false;
            _core.RunContinuationsAsynchronously = false;
        }

        _core.SetResult(true);
    }

    private void SendControl(string kind, string? name = null, long value = 0)
    {
        lock (_gate)
        {
            _sentControl = true;
            _lastSent = Environment.TickCount64;
        }

        _client.SendControl(_control, Inbox, kind, name, value);
    }
}
