using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Plexus.Transport.Quic.Connections;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// The client's side of one request: reads the server's frames from the stream. A message that fits one frame, and
/// each message of a MESSAGES frame, is handed out as a view of the stream's buffer (<see cref="Current"/>), without a
/// copy, and the buffer is consumed only when the caller has moved past every message in it; larger messages are
/// assembled in pooled memory. The messages of a MESSAGES frame are checked together when it is read and then handed
/// out one by one without parsing anything else. Consuming is what returns QUIC's
/// flow-control credit, so a slow caller holds the handler in its <c>FlushAsync</c>. Cancellation (the caller's
/// tokens, disposing early, the deadline) resets the stream with CANCELLED or TIMEOUT, which fires the handler's token.
/// </summary>
internal sealed partial class QuicResponseStream : IResponseStream
{
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    private readonly QuicClientSession _session;
    private readonly QuicStream _stream;
    private readonly PipeReader _input;
    private readonly PayloadBuilder _assembly;
    private readonly Lock _gate = new();
    private CancellationTokenRegistration _requestRegistration;
    private Timer? _deadlineTimer;
    private DateTimeOffset _deadline;

    // The unparsed bytes of the read the stream holds (AdvanceTo is owed while _holding), and whether FIN follows them.
    private ReadOnlySequence<byte> _buffer;
    private bool _holding;
    private bool _readCompleted;
    private ReadOnlySequence<byte> _current;

    // The messages of the MESSAGES frame being read that the caller has not reached yet, each behind its length.
    private ReadOnlySequence<byte> _packed;
    private int _packedLeft;
    private PooledPayload _assembled;
    private bool _currentAssembled;
    private bool _finished;
    private PlexusException? _endError;
    private Exception? _abortError;
    private bool _inputCompleted;
    private bool _disposed;
    private int _released;

    public QuicResponseStream(QuicClientSession session, QuicStream stream)
    {
        _session = session;
        _stream = stream;
        _input = stream.Input;
        _assembly = new PayloadBuilder(session.Pool);
    }

    /// <summary>Why the request was given up on this side (the caller's cancellation, the deadline, disposal), if it was.</summary>
    public Exception? AbortError => Volatile.Read(ref _abortError);

    /// <inheritdoc />
    public ReadOnlySequence<byte> Current => _current;

    private Uri Address => _session.Address;

    /// <summary>Arms the request-wide token and the deadline before the request is written.</summary>
    public void Start(DateTimeOffset? deadline, CancellationToken requestToken)
    {
        if (requestToken.CanBeCanceled)
        {
            _requestRegistration = requestToken.UnsafeRegister(
                static (state, token) => ((QuicResponseStream)state!).Abort(new OperationCanceledException("The request was cancelled by the token given to SendAsync.", token), QuicErrorCodes.Cancelled),
                this);
        }

        if (deadline is { } at)
        {
            var remaining = at - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                Abort(DeadlinePassed(at), QuicErrorCodes.Timeout);
            }
            else if (remaining < LongestTimer)
            {
                var timer = new Timer(static state => ((QuicResponseStream)state!).OnDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                lock (_gate)
                {
                    _deadlineTimer = timer;
                    _deadline = at;
                }

                timer.Change(remaining, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_packedLeft > 0 && !_finished && AbortError is null)
        {
            // The next message of a MESSAGES frame already checked: no frame to parse, nothing to wait for.
            ReleaseCurrent();
            TakePacked();
            return new ValueTask<bool>(true);
        }

        return MoveNextSlowAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> MoveNextSlowAsync(CancellationToken cancellationToken)
    {
        ReleaseCurrent();
        var registered = false;
        CancellationTokenRegistration registration = default;
        try
        {
            while (true)
            {
                if (AbortError is { } aborted)
                {
                    throw aborted;
                }

                if (_finished)
                {
                    return _endError is null ? false : throw _endError;
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    // Giving up on the read gives up on the request.
                    Abort(ReadCancelled(cancellationToken), QuicErrorCodes.Cancelled);
                    continue;
                }

                if (_holding)
                {
                    if (TryTakeMessage())
                    {
                        return true;
                    }

                    if (_finished || AbortError is not null)
                    {
                        continue;
                    }

                    if (_readCompleted)
                    {
                        EndOfStream();
                        continue;
                    }

                    // Everything parsed so far is consumed: QUIC may let the server send more.
                    _input.AdvanceTo(_buffer.Start, _buffer.End);
                    _holding = false;
                }

                if (!registered && cancellationToken.CanBeCanceled)
                {
                    // Abort from the canceller's thread, so the reset leaves at once even when the pool is busy.
                    registration = cancellationToken.UnsafeRegister(static (state, token) => ((QuicResponseStream)state!).Abort(ReadCancelled(token), QuicErrorCodes.Cancelled), this);
                    registered = true;
                }

                ReadResult result;
                try
                {
                    result = await _input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
                {
                    if (AbortError is null)
                    {
                        Finish(Map(exception));
                    }

                    continue;
                }

                if (result.IsCanceled)
                {
                    continue;
                }

                _buffer = result.Buffer;
                _holding = true;
                _readCompleted = result.IsCompleted;
            }
        }
        finally
        {
            registration.Dispose();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return default;
        }

        // Disposing before the end cancels the request on the server.
        Abort(new ObjectDisposedException(nameof(QuicResponseStream), "The response stream was disposed."), QuicErrorCodes.Cancelled);
        Timer? timer;
        lock (_gate)
        {
            _disposed = true;
            timer = _deadlineTimer;
            _deadlineTimer = null;
        }

        ReleaseCurrent();
        _assembly.Discard();
        CompleteInput();
        timer?.Dispose();
        _requestRegistration.Dispose();
        Released();
        return default;
    }

    /// <summary>
    /// Ends the request early: the caller's next read fails with <paramref name="error"/> at once, and the stream is
    /// reset with <paramref name="code"/> (CANCELLED or TIMEOUT), which fires the handler's token. Nothing once the
    /// server has ended the stream.
    /// </summary>
    public void Abort(Exception error, ulong code)
    {
        lock (_gate)
        {
            if (_finished || _abortError is not null)
            {
                return;
            }

            Volatile.Write(ref _abortError, error);
        }

        _stream.Abort(code);
        _input.CancelPendingRead();
        DisposeTimer();
    }

    private static PlexusException DeadlinePassed(DateTimeOffset deadline) =>
        new(PlexusErrorCode.Timeout, $"The request's deadline ({deadline.ToString("O", CultureInfo.InvariantCulture)}) passed before the response ended.");

    private static OperationCanceledException ReadCancelled(CancellationToken token) =>
        new("The read was cancelled, and with it the request.", token);

    // A malformed frame fails this stream only: reset it with PROTOCOL, and the caller sees ProtocolError.
    private void Violation(string problem)
    {
        _stream.Abort(QuicErrorCodes.Protocol);
        Finish(PlexusException.Protocol($"{Address} broke the Plexus QUIC protocol on this request's stream: {problem}."));
    }

    private void Finish(PlexusException? error)
    {
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            _endError = error;
        }

        DisposeTimer();
        _assembly.Discard();
        CompleteInput();
        Released();
    }

    private void CompleteInput()
    {
        if (_inputCompleted)
        {
            return;
        }

        _inputCompleted = true;

        // Views into the buffer are given up with it.
        _packed = default;
        _packedLeft = 0;
        if (_holding)
        {
            _input.AdvanceTo(_buffer.End);
            _holding = false;
        }

        _input.Complete();
    }

    private PlexusException Map(Exception exception) => exception switch
    {
        QuicStreamAbortedException { ErrorCode: QuicErrorCodes.Shutdown } => PlexusException.Unavailable($"{Address} stopped while the request was in flight (it reset the stream with SHUTDOWN)."),
        QuicStreamAbortedException { ErrorCode: QuicErrorCodes.Protocol } => PlexusException.Protocol($"{Address} reset the request's stream because a frame on it was malformed (PROTOCOL); its log says which."),
        QuicStreamAbortedException aborted => PlexusException.Unavailable($"{Address} reset the request's stream (application error 0x{aborted.ErrorCode:x})."),
        QuicConnectionClosedException closed => PlexusException.Unavailable($"The connection to {Address} was lost while the request was in flight: {closed.Info.Describe()}."),
        _ => PlexusException.Unavailable($"Reading the response from {Address} failed: {exception.Message}"),
    };

    private void ReleaseCurrent()
    {
        if (_currentAssembled)
        {
            _assembled.Return(_session.Pool);
            _assembled = default;
            _currentAssembled = false;
        }

        _current = default;
    }

    // Tells the session once that this stream no longer needs the connection.
    private void Released()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _session.StreamEnded();
        }
    }

    private void OnDeadline()
    {
        DateTimeOffset deadline;
        lock (_gate)
        {
            deadline = _deadline;
        }

        Abort(DeadlinePassed(deadline), QuicErrorCodes.Timeout);
    }

    private void DisposeTimer()
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
