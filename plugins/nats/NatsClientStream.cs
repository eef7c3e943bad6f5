using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>
/// The requester's side of one request: frames arrive on the read loop (<see cref="OnFrame"/>), are checked for gaps,
/// copied into pooled buffers and queued; the reader takes them with <see cref="MoveNextAsync"/>, which grants the
/// server more credit as it moves past them. Cancellation, the deadline and a silent server each end the request with
/// a typed error and tell the server.
/// </summary>
internal sealed class NatsClientStream : IResponseStream, IValueTaskSource<bool>
{
    private readonly NatsClient _client;
    private readonly ArrayPool<byte> _pool = BoundedArrayPool.Instance;
    private readonly Lock _gate = new();
    private readonly Queue<ReceivedMessage> _queue = new();
    private readonly TaskCompletionSource<string> _controlKnown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _window;
    private readonly long _maxMessage;
    private readonly long _keepAliveMs;
    private readonly DateTimeOffset? _deadline;
    private ManualResetValueTaskSourceCore<bool> _core;
    private bool _waiting;
    private string? _control;
    private long _expectedSeq;
    private byte[]? _assembly;
    private int _assemblyLength;
    private int _assemblyOffset;
    private long _consumed;
    private long _granted;
    private long _lastReceived;
    private long _lastSent;
    private bool _receivedAny;
    private bool _sentControl;
    private bool _cancelWhenKnown;
    private bool _ended;
    private PlexusException? _completionError;
    private Exception? _abortError;
    private CancellationToken _requestToken;
    private CancellationTokenRegistration _requestRegistration;
    private Timer? _deadlineTimer;
    private ReceivedMessage _current;
    private bool _hasCurrent;
    private bool _disposed;

    /// <summary>Creates the stream of a request about to be sent.</summary>
    /// <param name="client">The client that owns it.</param>
    /// <param name="id">Its number under the client's inbox.</param>
    /// <param name="inbox">Its reply subject.</param>
    /// <param name="control">The server's control subject, when the address names it.</param>
    /// <param name="endpoint">The endpoint, for messages.</param>
    /// <param name="deadline">The request's deadline.</param>
    /// <param name="options">Limits and intervals.</param>
    public NatsClientStream(NatsClient client, long id, string inbox, string? control, EndpointAddress endpoint, DateTimeOffset? deadline, NatsTransportOptions options)
    {
        _client = client;
        Id = id;
        Inbox = inbox;
        Endpoint = endpoint;
        _deadline = deadline;
        _window = options.WindowBytes;
        _maxMessage = options.MaxPayloadBytes;
        _keepAliveMs = (long)options.KeepAliveInterval.TotalMilliseconds;
        _core.RunContinuationsAsynchronously = true;
        if (control is not null)
        {
            _control = control;
            _controlKnown.TrySetResult(control);
        }

        _lastReceived = _lastSent = Environment.TickCount64;
    }

    /// <summary>Its number under the client's inbox.</summary>
    public long Id { get; }

    /// <summary>Its reply subject: where the server sends frames, and the key the server knows it by.</summary>
    public string Inbox { get; }

    /// <summary>The endpoint called.</summary>
    public EndpointAddress Endpoint { get; }

    /// <inheritdoc />
    public ReadOnlySequence<byte> Current => _current.AsSequence();

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
                var timer = new Timer(static s => ((NatsClientStream)s!).Fail(((NatsClientStream)s!).DeadlinePassed(), cancelServer: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                lock (_gate)
                {
                    _deadlineTimer = timer;
                }

                timer.Change(remaining, Timeout.InfiniteTimeSpan);
            }
        }

        if (requestToken.CanBeCanceled)
        {
            _requestRegistration = requestToken.UnsafeRegister(static s => ((NatsClientStream)s!).Fail(ClientCancelled(), cancelServer: true), this);
        }
    }

    /// <summary>Waits until the server's control subject is known (queued requests learn it from the accept frame).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The subject.</returns>
    public async Task<string> ControlSubjectAsync(CancellationToken cancellationToken)
    {
        var failed = FailedTask();
        var done = await Task.WhenAny(_controlKnown.Task, failed).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (done == _controlKnown.Task)
        {
            return await _controlKnown.Task.ConfigureAwait(false);
        }

        lock (_gate)
        {
            throw _abortError ?? _completionError ?? new PlexusException(PlexusErrorCode.Unavailable, "The request ended before the server took it.");
        }
    }

    /// <summary>Handles one frame from the server, on the connection's read loop.</summary>
    /// <param name="message">The frame.</param>
    public void OnFrame(in NatsMessage message)
    {
        FrameHeader header;
        try
        {
            header = FrameHeader.Read(message.Headers);
        }
        catch (NatsProtocolException exception)
        {
            Fail(PlexusException.Protocol($"The server sent a malformed frame for a request to {Endpoint}: {exception.Message}"), cancelServer: true);
            return;
        }

        PlexusException? failure = null;
        long grant = -1;
        var sendPendingCancel = false;
        var endedNow = false;
        var gap = false;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _lastReceived = Environment.TickCount64;
            if (header.Status == 503)
            {
                // No subscriber for the subject the request (or a control message) went to: the instance is gone.
                // Before anything came back and before any control went out, it is the request itself: nobody took it.
                failure = new PlexusException(
                    PlexusErrorCode.Unavailable,
                    _receivedAny || _sentControl
                        ? $"The server serving {Endpoint} went away (NATS reported no responders on its control subject)."
                        : $"No server serves {Endpoint} as the instance asked for (NATS reported no responders).")
                { BeforeFirstByte = !_receivedAny && !_sentControl };
            }
            else if (header.Status != 0)
            {
                failure = PlexusException.Protocol($"NATS answered a request to {Endpoint} with status {header.Status}.");
            }
            else
            {
                if (_control is null && !message.ReplyTo.IsEmpty)
                {
                    _control = System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, message.ReplyTo);
                    _controlKnown.TrySetResult(_control);
                    sendPendingCancel = _cancelWhenKnown;
                }

                failure = Apply(header, message.Payload, ref grant, ref gap);
                endedNow = _ended;
            }
        }

        if (failure is not null)
        {
            Fail(failure, cancelServer: header.Status == 0);
            return;
        }

        if (sendPendingCancel || gap)
        {
            SendControl(NatsWire.Kind.Cancel, NatsWire.ErrorCode, (long)PlexusErrorCode.Cancelled);
        }

        if (grant >= 0)
        {
            SendControl(NatsWire.Kind.CreditKind, NatsWire.Credit, grant);
        }

        if (endedNow)
        {
            // The server is done: nothing more arrives for this stream, and it needs no keep-alive.
            _client.Ended(this);
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
        _controlKnown.TrySetException(error);
        if (cancelServer)
        {
            var code = error is PlexusException plexus ? plexus.Code : PlexusErrorCode.Cancelled;
            SendControl(NatsWire.Kind.Cancel, NatsWire.ErrorCode, (long)code);
        }

        _client.Ended(this);
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

            if (now - _lastReceived >= 3 * _keepAliveMs)
            {
                credit = -2;
            }
            else if (_control is not null && now - _lastSent >= (_receivedAny ? _keepAliveMs : 2 * _keepAliveMs))
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
            SendControl(NatsWire.Kind.CreditKind, NatsWire.Credit, credit);
        }
        else
        {
            SendControl(NatsWire.Kind.Ping);
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

                if (_queue.TryDequeue(out var message))
                {
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
                ? cancellationToken.UnsafeRegister(static s => ((NatsClientStream)s!).Fail(ClientCancelled(), cancelServer: true), this)
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
            _current.ReturnTo(_pool);
            _current = default;
            _hasCurrent = false;
        }

        _requestRegistration.Dispose();
        _controlKnown.TrySetCanceled();
        if (!wasEnded)
        {
            // Disposing before the end cancels the request on the server.
            SendControl(NatsWire.Kind.Cancel, NatsWire.ErrorCode, (long)PlexusErrorCode.Cancelled);
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

    private Task FailedTask()
    {
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = _controlKnown.Task.ContinueWith(static (t, s) => { if (!t.IsCompletedSuccessfully) ((TaskCompletionSource)s!).TrySetResult(); }, failed, TaskScheduler.Default);
        return failed.Task;
    }

    // Under the lock. Returns an error that ends the request, or null; sets grant to a credit to send.
    private PlexusException? Apply(FrameHeader header, ReadOnlySequence<byte> payload, ref long grant, ref bool gap)
    {
        switch (header.Kind)
        {
            case FrameKind.Accept or FrameKind.Pong:
                return null;
            case FrameKind.Data or FrameKind.Last or FrameKind.Part or FrameKind.End or FrameKind.Error:
                if (header.Seq != _expectedSeq)
                {
                    // Orderly: the messages before the gap are whole and still delivered; then the gap is reported.
                    _ended = true;
                    _completionError = PlexusException.Protocol(
                        $"Response frame {_expectedSeq} of a request to {Endpoint} never arrived (frame {header.Seq} came instead); the stream is incomplete.");
                    ReturnAssembly();
                    TakeTimer();
                    Wake();
                    gap = true;
                    return null;
                }

                _expectedSeq++;
                _receivedAny = true;
                break;
            default:
                return PlexusException.Protocol($"The server sent a frame of unknown kind for a request to {Endpoint}.");
        }

        switch (header.Kind)
        {
            case FrameKind.Data or FrameKind.Last:
                if (_assembly is not null)
                {
                    return PlexusException.Protocol($"The server started a new message for a request to {Endpoint} before finishing a chunked one.");
                }

                if (payload.Length > _maxMessage)
                {
                    return PlexusException.TooLarge("response message", payload.Length, _maxMessage, NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes)));
                }

                var buffer = payload.Length == 0 ? null : _pool.Rent((int)payload.Length);
                if (buffer is not null)
                {
                    payload.CopyTo(buffer);
                }

                _queue.Enqueue(new ReceivedMessage(buffer, (int)payload.Length, Credited: false));
                if (header.Kind == FrameKind.Last)
                {
                    _ended = true;
                    TakeTimer();
                }

                Wake();
                return null;
            case FrameKind.Part:
                if (_assembly is null)
                {
                    if (header.Length < 0)
                    {
                        return PlexusException.Protocol($"The server sent the first chunk of a message for a request to {Endpoint} without its total length.");
                    }

                    // The limit is checked on the announced length, before the buffer is rented.
                    if (header.Length > _maxMessage)
                    {
                        return PlexusException.TooLarge("response message", header.Length, _maxMessage, NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes)));
                    }

                    _assembly = _pool.Rent((int)Math.Max(1, header.Length));
                    _assemblyLength = (int)header.Length;
                    _assemblyOffset = 0;
                }

                if (_assemblyOffset + payload.Length > _assemblyLength)
                {
                    return PlexusException.Protocol($"The chunks of a message for a request to {Endpoint} add up to more than its announced length ({_assemblyLength} bytes).");
                }

                payload.CopyTo(_assembly.AsSpan(_assemblyOffset));
                _assemblyOffset += (int)payload.Length;

                // A chunk is consumed once it is in the message buffer: credit it now, or a message larger than the
                // window could never complete.
                _consumed += payload.Length + NatsWire.FrameCost;
                grant = TakeGrant();
                if (_assemblyOffset == _assemblyLength)
                {
                    _queue.Enqueue(new ReceivedMessage(_assembly, _assemblyLength, Credited: true));
                    _assembly = null;
                    Wake();
                }

                return null;
            case FrameKind.End:
                if (_assembly is not null)
                {
                    return PlexusException.Protocol($"The server ended a request to {Endpoint} in the middle of a chunked message.");
                }

                _ended = true;
                TakeTimer();
                Wake();
                return null;
            default:
                _ended = true;
                var code = Enum.IsDefined((PlexusErrorCode)header.ErrorCode) ? (PlexusErrorCode)header.ErrorCode : PlexusErrorCode.ProtocolError;
                _completionError = new PlexusException(code, System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, payload)) { BeforeFirstByte = header.Refused };
                ReturnAssembly();
                TakeTimer();
                Wake();
                return null;
        }
    }

    private void TakeTimer()
    {
        var timer = _deadlineTimer;
        _deadlineTimer = null;
        timer?.Dispose();
    }

    private long TakeGrant()
    {
        if (_consumed - _granted < _window / 4)
        {
            return -1;
        }

        _granted = _consumed;
        return _granted;
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

        current.ReturnTo(_pool);
        long grant = -1;
        lock (_gate)
        {
            if (!current.Credited && !_ended)
            {
                _consumed += current.Length + NatsWire.FrameCost;
                grant = TakeGrant();
            }
        }

        if (grant >= 0)
        {
            SendControl(NatsWire.Kind.CreditKind, NatsWire.Credit, grant);
        }
    }

    private void ReturnAssembly()
    {
        if (_assembly is not null)
        {
            _pool.Return(_assembly);
            _assembly = null;
        }
    }

    private void Wake()
    {
        if (_waiting)
        {
            _waiting = false;
            _core.SetResult(true);
        }
    }

    private void SendControl(ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name = default, long value = 0)
    {
        string? control;
        lock (_gate)
        {
            control = _control;
            if (control is null)
            {
                // A queued request not yet taken: the cancel goes out once the server is known.
                _cancelWhenKnown |= kind.SequenceEqual(NatsWire.Kind.Cancel);
                return;
            }

            _sentControl = true;
            _lastSent = Environment.TickCount64;
        }

        _client.SendControl(control, Inbox, kind, name, value);
    }
}
