using System.Buffers;
using System.Globalization;
using System.Text;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>
/// The serving side of one request: its payload (assembled from chunks when large), the handler's cancellation, the
/// credit the requester granted, and the numbered frames sent back. Every sequenced frame is numbered and appended
/// under one lock, so frames reach the requester in number order whoever sends them (handler, timer, drain).
/// </summary>
internal sealed class NatsServerExchange
{
    private const int HeaderRoom = 192;

    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(40);

    private readonly NatsConnection _connection;
    private readonly string _control;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly byte[] _header = new byte[HeaderRoom];
    private readonly long _window;
    private readonly long _deadAfterMs;
    private long _seq;
    private long _sent;
    private long _credit;
    private long _expectedPart = 1;
    private int _received;
    private bool _ended;
    private PlexusException? _abortError;
    private TaskCompletionSource<bool>? _creditWaiter;
    private long _wanted;
    private long _lastFromClient;
    private Timer? _deadlineTimer;
    private int _claimed;

    // One whole message the handler flushed before its first await, held back so that a handler that ends right
    // after it (a unary call) answers with one `last` frame instead of `data` and `end`: one NATS message less.
    private volatile bool _deferAllowed = true;
    private byte[]? _deferred;
    private int _deferredLength;
    private ArrayPool<byte>? _deferredPool;

    /// <summary>Creates the exchange of a request whose head arrived.</summary>
    /// <param name="connection">The server's connection.</param>
    /// <param name="control">The server's control subject (the reply-to of its frames).</param>
    /// <param name="replyTo">The requester's reply subject.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="requestId">The request id.</param>
    /// <param name="headers">The caller's headers.</param>
    /// <param name="deadline">The deadline, if any.</param>
    /// <param name="window">The credit window the requester granted.</param>
    /// <param name="keepAliveMs">The requester's keep-alive interval.</param>
    /// <param name="payload">A rented array for the payload.</param>
    /// <param name="length">The payload's length.</param>
    public NatsServerExchange(
        NatsConnection connection,
        string control,
        string replyTo,
        EndpointAddress endpoint,
        string requestId,
        IReadOnlyDictionary<string, string> headers,
        DateTimeOffset? deadline,
        long window,
        long keepAliveMs,
        byte[] payload,
        int length)
    {
        _connection = connection;
        _control = control;
        ReplyTo = replyTo;
        Endpoint = endpoint;
        RequestId = requestId;
        Headers = headers;
        Deadline = deadline;
        _window = window;
        _deadAfterMs = 3 * keepAliveMs;
        Payload = payload;
        Length = length;
        _lastFromClient = Environment.TickCount64;
    }

    /// <summary>The requester's reply subject; the key of the exchange.</summary>
    public string ReplyTo { get; }

    /// <summary>The endpoint.</summary>
    public EndpointAddress Endpoint { get; }

    /// <summary>The request id.</summary>
    public string RequestId { get; }

    /// <summary>The caller's headers.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>The deadline.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>The rented payload array.</summary>
    public byte[] Payload { get; }

    /// <summary>The payload's length.</summary>
    public int Length { get; }

    /// <summary>Whether the whole payload has arrived.</summary>
    public bool Complete => _received == Length;

    /// <summary>The handler's <see cref="RequestContext.RequestAborted"/>.</summary>
    public CancellationToken RequestAborted => _aborted.Token;

    /// <summary>Whether the exchange has ended.</summary>
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

    /// <summary>Claims the request once: either the handler runs (and cleans up after itself) or the server drops it.</summary>
    /// <returns><see langword="true"/> for the one caller that claimed it.</returns>
    public bool TryClaimCleanup() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>Copies the first chunk of the payload (from the request head).</summary>
    /// <param name="chunk">The bytes.</param>
    public void AddFirst(in ReadOnlySequence<byte> chunk)
    {
        chunk.CopyTo(Payload);
        _received = (int)chunk.Length;
    }

    /// <summary>Copies one more chunk of the payload; on the read loop.</summary>
    /// <param name="header">The chunk's headers.</param>
    /// <param name="chunk">The bytes.</param>
    /// <returns>An error that ends the request, or <see langword="null"/>.</returns>
    public PlexusException? AddPart(FrameHeader header, in ReadOnlySequence<byte> chunk)
    {
        Touch();
        if (header.Seq != _expectedPart)
        {
            return PlexusException.Protocol($"Request chunk {_expectedPart} never arrived (chunk {header.Seq} came instead); the request payload is incomplete.");
        }

        if (_received + chunk.Length > Length)
        {
            return PlexusException.Protocol($"The request's chunks add up to more than its announced length ({Length} bytes).");
        }

        _expectedPart++;
        chunk.CopyTo(Payload.AsSpan(_received));
        _received += (int)chunk.Length;
        return null;
    }

    /// <summary>Notes that the requester was heard from.</summary>
    public void Touch() => Volatile.Write(ref _lastFromClient, Environment.TickCount64);

    /// <summary>Raises the credit to <paramref name="credit"/> (cumulative) and wakes a sender waiting for it.</summary>
    /// <param name="credit">The requester's consumed total.</param>
    public void Grant(long credit)
    {
        Touch();
        TaskCompletionSource<bool>? wake = null;
        lock (_gate)
        {
            if (credit > _credit)
            {
                _credit = credit;
            }

            if (_creditWaiter is not null && Fits(_wanted))
            {
                _sent += _wanted;
                wake = _creditWaiter;
                _creditWaiter = null;
            }
        }

        wake?.TrySetResult(true);
    }

    /// <summary>Starts the deadline clock; called when the handler is about to run.</summary>
    public void StartDeadline()
    {
        if (Deadline is not { } deadline)
        {
            return;
        }

        // Through Abort like every other end: the reason is recorded before the handler's token fires.
        var remaining = deadline - DateTimeOffset.UtcNow;
        if (remaining <= TimeSpan.Zero)
        {
            Abort(DeadlinePassed(), notifyClient: true);
        }
        else if (remaining < LongestTimer)
        {
            var timer = new Timer(static s => ((NatsServerExchange)s!).Abort(((NatsServerExchange)s!).DeadlinePassed(), notifyClient: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            lock (_gate)
            {
                _deadlineTimer = timer;
            }

            timer.Change(remaining, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Sends one response message, chunked when it does not fit one NATS message, each frame within credit.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">The token the handler gave FlushAsync.</param>
    /// <returns>A task that completes when every frame is appended to the connection.</returns>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        // A frame costs at most a quarter of the window: the requester grants credit in quarter-window steps, so a
        // sender whose frames were as large as the window could wait for a grant that is never due.
        _deferAllowed = false;
        var maxChunk = MaxChunk();
        if (message.Length <= maxChunk)
        {
            await SendFrameAsync(message, chunked: false, total: message.Length, cancellationToken).ConfigureAwait(false);
            return;
        }

        var offset = 0;
        while (offset < message.Length)
        {
            var chunk = Math.Min(maxChunk, message.Length - offset);
            await SendFrameAsync(message.Slice(offset, chunk), chunked: true, total: offset == 0 ? message.Length : -1, cancellationToken).ConfigureAwait(false);
            offset += chunk;
        }
    }

    /// <summary>
    /// Takes a flushed message to send later, with the end of the stream when the handler ends before its first
    /// await (<see cref="EndDeferral"/> sends it otherwise). Only the first message of a request, only when it fits
    /// one frame, the credit and the outbox right now.
    /// </summary>
    /// <param name="buffer">The message's rented array (null when empty); the exchange returns it to <paramref name="pool"/>.</param>
    /// <param name="length">The message's length.</param>
    /// <param name="pool">Where the array goes back.</param>
    /// <returns>True when the exchange took the message.</returns>
    public bool TryDefer(byte[]? buffer, int length, ArrayPool<byte> pool)
    {
        if (!_deferAllowed)
        {
            return false;
        }

        var cost = length + NatsWire.FrameCost;
        if (length > MaxChunk() || !HasRoom(length + HeaderRoom))
        {
            _deferAllowed = false;
            return false;
        }

        lock (_gate)
        {
            if (!_deferAllowed || _ended || !Fits(cost))
            {
                _deferAllowed = false;
                return false;
            }

            _deferAllowed = false;
            _sent += cost;
            _deferred = buffer ?? [];
            _deferredLength = length;
            _deferredPool = pool;
            return true;
        }
    }

    /// <summary>The handler awaits something: a held-back message goes out now, and nothing more is held back.</summary>
    public void EndDeferral()
    {
        _deferAllowed = false;
        lock (_gate)
        {
            if (!_ended)
            {
                PublishDeferredLocked(NatsWire.Kind.Data);
            }
        }
    }

    /// <summary>Ends the request in order: the end frame, or the error frame after the messages already sent.</summary>
    /// <param name="error">The handler's error, or <see langword="null"/>.</param>
    public void Finish(PlexusException? error)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _deferAllowed = false;
            if (error is null)
            {
                if (!PublishDeferredLocked(NatsWire.Kind.Last))
                {
                    PublishLocked(NatsWire.Kind.End, ReadOnlySpan<byte>.Empty);
                }
            }
            else
            {
                PublishDeferredLocked(NatsWire.Kind.Data);
                PublishErrorLocked(error);
            }
        }

        StopTimer();
    }

    /// <summary>
    /// Ends the request at once: fires the handler's token and wakes a sender waiting for credit. With
    /// <paramref name="notifyClient"/>, the requester gets an error frame (deadline, server stopping); without, it is
    /// the requester that ended it (cancel) or cannot be reached.
    /// </summary>
    /// <param name="error">Why.</param>
    /// <param name="notifyClient">Whether to send the error to the requester.</param>
    public void Abort(PlexusException error, bool notifyClient)
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _deferAllowed = false;
            _abortError = error;
            wake = _creditWaiter;
            _creditWaiter = null;
            if (notifyClient)
            {
                // What the handler flushed goes first, as it would have without being held back.
                PublishDeferredLocked(NatsWire.Kind.Data);
                PublishErrorLocked(error);
            }
            else
            {
                ReturnDeferredLocked();
            }
        }

        wake?.TrySetResult(false);
        StopTimer();
        try
        {
            _aborted.Cancel();
        }
        catch (AggregateException)
        {
            // A callback the handler registered threw; that is the handler's problem, not a reason to stop aborting.
        }
    }

    /// <summary>Aborts the request when the requester has been silent for three of its keep-alive intervals.</summary>
    /// <param name="now">The tick count now.</param>
    public void Sweep(long now)
    {
        if (now - Volatile.Read(ref _lastFromClient) >= _deadAfterMs)
        {
            Abort(new PlexusException(PlexusErrorCode.Unavailable, $"The requester of {Endpoint} has been silent for {_deadAfterMs} ms; it is presumed gone."), notifyClient: false);
        }
    }

    /// <summary>Answers a requester's ping.</summary>
    public void Pong()
    {
        Touch();
        Span<byte> header = stackalloc byte[HeaderRoom];
        var n = NatsWire.Small(header, NatsWire.Kind.Pong);
        TryPublish(header[..n], ReadOnlySequence<byte>.Empty, _control);
    }

    /// <summary>Tells a queued requester which server took its request (the frame's reply-to is the control subject).</summary>
    public void Accept()
    {
        Span<byte> header = stackalloc byte[HeaderRoom];
        var n = NatsWire.Small(header, NatsWire.Kind.Accept);
        TryPublish(header[..n], ReadOnlySequence<byte>.Empty, _control);
    }

    private PlexusException DeadlinePassed() => new(
        PlexusErrorCode.Timeout,
        $"The request's deadline ({Deadline?.ToString("O", CultureInfo.InvariantCulture)}) passed before it completed.");

    private PlexusException ErrorForHandler() =>
        _abortError is { } error
            ? new PlexusException(error.Code, error.Message)
            : new PlexusException(PlexusErrorCode.Cancelled, "The request has already ended; nothing more can be written to it.");

    private bool Fits(long cost) => _sent <= _credit || _sent + cost <= _credit + _window;

    private async ValueTask SendFrameAsync(ReadOnlyMemory<byte> bytes, bool chunked, int total, CancellationToken cancellationToken)
    {
        // Credit first: this is where a slow requester stops a fast handler.
        await TakeCreditAsync(bytes.Length + NatsWire.FrameCost, cancellationToken).ConfigureAwait(false);

        // Then room in the connection's outbox, so one request's burst cannot fill the process's memory.
        try
        {
            await _connection.WaitForRoomAsync(bytes.Length + HeaderRoom, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The response could not be sent: {exception.Message}", exception);
        }

        lock (_gate)
        {
            if (_ended)
            {
                throw ErrorForHandler();
            }

            PublishDeferredLocked(NatsWire.Kind.Data);
            var payload = new ReadOnlySequence<byte>(bytes);
            if (!chunked)
            {
                PublishLocked(NatsWire.Kind.Data, default, 0, payload);
            }
            else
            {
                PublishLocked(NatsWire.Kind.Part, total >= 0 ? NatsWire.Length : default, total, payload);
            }
        }
    }

    private async ValueTask TakeCreditAsync(long cost, CancellationToken cancellationToken)
    {
        Task<bool> wait;
        lock (_gate)
        {
            if (_ended)
            {
                throw ErrorForHandler();
            }

            if (Fits(cost))
            {
                _sent += cost;
                return;
            }

            _creditWaiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _wanted = cost;
            wait = _creditWaiter.Task;
        }

        bool granted;
        try
        {
            granted = await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_creditWaiter?.Task, wait))
                {
                    _creditWaiter = null;
                }
                else if (wait.IsCompletedSuccessfully && wait.Result)
                {
                    _sent -= cost;
                }
            }

            throw;
        }

        if (!granted)
        {
            lock (_gate)
            {
                throw ErrorForHandler();
            }
        }
    }

    // A frame costs at most a quarter of the window: the requester grants credit in quarter-window steps, so a
    // sender whose frames were as large as the window could wait for a grant that is never due.
    private int MaxChunk() => (int)Math.Min(Math.Min(int.MaxValue, _connection.MaxPayload - HeaderRoom), Math.Max(1024, (_window / 4) - NatsWire.FrameCost));

    // Room in the outbox right now; a wait that would be needed is left to run out on its own.
    private bool HasRoom(long bytes)
    {
        ValueTask room;
        try
        {
            room = _connection.WaitForRoomAsync(bytes, CancellationToken.None);
        }
        catch (NatsException)
        {
            return false;
        }

        if (room.IsCompletedSuccessfully)
        {
            return true;
        }

        room.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return false;
    }

    // Under the lock: sends the held-back message as a frame of the given kind; false when there is none.
    private bool PublishDeferredLocked(ReadOnlySpan<byte> kind)
    {
        if (_deferred is not { } buffer)
        {
            return false;
        }

        PublishLocked(kind, default, 0, new ReadOnlySequence<byte>(buffer, 0, _deferredLength));

        // Appended to the connection (a copy): the array can go back.
        ReturnDeferredLocked();
        return true;
    }

    private void ReturnDeferredLocked()
    {
        if (_deferred is { Length: > 0 } buffer)
        {
            _deferredPool?.Return(buffer);
        }

        _deferred = null;
        _deferredPool = null;
    }

    // Under the lock: numbers the frame and appends it, so numbers and order always agree.
    private void PublishLocked(ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name, long value = 0, ReadOnlySequence<byte> payload = default, int errorCode = 0, bool refused = false)
    {
        var seq = _seq++;
        var n = errorCode != 0
            ? NatsWire.Small(_header, kind, NatsWire.Seq, seq, NatsWire.ErrorCode, errorCode, refused)
            : NatsWire.Small(_header, kind, NatsWire.Seq, seq, name, value);

        // The first frame names the server's control subject, for requesters that reached it through the queue group.
        TryPublish(_header.AsSpan(0, n), payload, seq == 0 ? _control : null);
    }

    private void PublishErrorLocked(PlexusException error)
    {
        var text = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(error.Message));
        PublishLocked(NatsWire.Kind.Error, default, 0, text, (int)error.Code, error.BeforeFirstByte);
    }

    private void TryPublish(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> payload, string? replyTo)
    {
        try
        {
            _connection.Publish(ReplyTo, replyTo, header, payload);
        }
        catch (NatsException)
        {
            // The connection is gone: the requester learns of it through its keep-alive or the no-responders reply.
        }
    }

    private void StopTimer()
    {
        Timer? timer;
        lock (_gate)
        {
            timer = _deadlineTimer;
            _deadlineTimer = null;
        }

        timer?.Dispose();
    }
}
