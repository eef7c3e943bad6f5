using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The client's side of one request. The reader loop assembles response messages into pooled buffers and queues them;
/// small messages are packed back to back into a shared block, so a stream of them rents nothing per message.
/// <see cref="MoveNextAsync"/> hands them out as views (<see cref="Current"/>) and returns their credit once the caller
/// moves past them, which is what lets the server send more: a slow caller holds the handler in its FlushAsync.
/// A waiting caller is woken once per read from the socket, not once per message, and waiting uses one reusable
/// value-task source, so a steady stream allocates nothing per message.
/// </summary>
internal sealed partial class TcpResponseStream : IResponseStream, IFrameObserver, IValueTaskSource<bool>
{
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    // Messages up to this size go into a shared block; larger ones are worth an array of their own.
    private const int SmallMessageBytes = 1024;
    private const int BlockBytes = 16 * 1024;

    // The first block is small and each new one doubles up to BlockBytes: an idle token stream holds about a
    // kilobyte, a burst soon reads into full blocks.
    private const int FirstBlockBytes = 1024;

    private readonly ClientSession _session;
    private readonly FrameConnection _connection;
    private readonly ArrayPool<byte> _pool;

    // Room for one at the start: a unary answer, or the first run of a stream (a run holds many small messages).
    private readonly Queue<ReceivedMessage> _messages = new(1);

    // A message larger than a small one, in pieces until its last arrives; made for the first such message, as most
    // streams (every unary answer of up to a kilobyte) have none.
    private PayloadBuilder? _assembly;
    private readonly Lock _gate = new();
    private readonly long _maxMessageBytes;
    private readonly int _returnThreshold;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _requestRegistration;
    private Timer? _deadlineTimer;
    private DateTimeOffset _deadline;
    private ReceivedMessage _current;
    private bool _hasCurrent;

    // The small message being read (when _current is not a large one), and the run it comes from.
    private MessageBlock? _currentBlock;
    private int _currentOffset;
    private int _currentLength;
    private MessageBlock? _run;
    private int _runOffset;

    // The block the reader loop appends small messages to, whether the last queued entry is its open run, and one
    // idle block kept for reuse.
    private MessageBlock? _block;
    private bool _runOpen;
    private MessageBlock? _spare;
    private int _nextBlockBytes = FirstBlockBytes;
    private bool _wakeScheduled;
    private int _withheld;
    private int _pendingReturn;
    private long _receiveRemaining;
    private bool _waiting;
    private bool _ended;
    private bool _disposed;
    private Exception? _abortError;
    private PlexusException? _endError;
    private int _unwritten;
    private TaskCompletionSource? _allWritten;

    public TcpResponseStream(ClientSession session, FrameConnection connection, long maxMessageBytes)
    {
        _session = session;
        _connection = connection;
        _pool = connection.Pool;
        _maxMessageBytes = maxMessageBytes;
        _receiveRemaining = connection.Local.StreamWindowBytes;
        _returnThreshold = connection.Local.StreamWindowBytes / 4;
        SendWindow = new CreditWindow(connection.Peer.StreamWindowBytes, connection);
    }

    /// <summary>The stream id, set when the REQUEST is queued.</summary>
    public uint Id { get; set; }

    /// <summary>Credit for this stream's request payload frames.</summary>
    public CreditWindow SendWindow { get; }

    /// <inheritdoc />
    public ReadOnlySequence<byte> Current => !_hasCurrent
        ? ReadOnlySequence<byte>.Empty
        : _currentBlock is not null ? new ReadOnlySequence<byte>(_currentBlock.Array, _currentOffset, _currentLength) : _current.Payload.ToSequence();

    /// <summary>Arms the request-wide token and the deadline once the REQUEST is queued.</summary>
    public void Started(DateTimeOffset? deadline, CancellationToken requestToken)
    {
        if (requestToken.CanBeCanceled)
        {
            _requestRegistration = requestToken.UnsafeRegister(
                static (state, token) => ((TcpResponseStream)state!).Abort(new OperationCanceledException("The request was cancelled by the token given to SendAsync.", token), PlexusErrorCode.Cancelled),
                this);
        }

        if (deadline is { } at)
        {
            var remaining = at - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                Abort(DeadlinePassed(at), PlexusErrorCode.Timeout);
            }
            else if (remaining < LongestTimer)
            {
                var timer = new Timer(static state => ((TcpResponseStream)state!).OnDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
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
        return TryMoveWithinRun() ? new ValueTask<bool>(true) : MoveNextSlowAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> MoveNextSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            short version;
            lock (_gate)
            {
                // Moving on releases the message read before, in the same lock as taking the next.
                ReturnConsumedLocked();
                ReleaseCurrentLocked();
                if (_abortError is not null)
                {
                    throw _abortError;
                }

                if (TryTakeLocked())
                {
                    return true;
                }

                if (_ended)
                {
                    // Nothing is left to read: the blocks can go.
                    ReleaseBlocksLocked();
                    return _endError is null ? false : throw _endError;
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    // Giving up on the read gives up on the request.
                    AbortLocked(ReadCancelled(cancellationToken), PlexusErrorCode.Cancelled, out _);
                    throw _abortError!;
                }

                _signal.Reset();
                _waiting = true;
                version = _signal.Version;
            }

            // Abort from the canceller's thread, so the CANCEL frame leaves at once even when the pool is busy.
            using (cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static (state, token) => ((TcpResponseStream)state!).Abort(ReadCancelled(token), PlexusErrorCode.Cancelled), this)
                : default)
            {
                await new ValueTask<bool>(this, version).ConfigureAwait(false);
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

        // Disposing before the end cancels the request on the server. After it, nothing is left to cancel: no error is
        // made (a stale read only costs the check under the lock).
        if (!Volatile.Read(ref _ended))
        {
            Abort(new ObjectDisposedException(nameof(TcpResponseStream), "The response stream was disposed."), PlexusErrorCode.Cancelled);
        }

        Timer? timer;
        lock (_gate)
        {
            ReturnConsumedLocked();
            ReleaseCurrentLocked();
            _disposed = true;
            timer = _deadlineTimer;
            _deadlineTimer = null;
            if (_run is not null)
            {
                DiscardRunLocked(_run, _runOffset);
                _run = null;
            }

            while (_messages.TryDequeue(out var message))
            {
                if (message.Block is { } block)
                {
                    DiscardRunLocked(block, message.Offset);
                }
                else
                {
                    message.Payload.Return(_pool);
                    _connection.ReturnCredit(message.Credit);
                }
            }

            ReleaseBlocksLocked();
            _connection.ReturnCredit(_withheld);
            _withheld = 0;
        }

        timer?.Dispose();
        _requestRegistration.Dispose();
        return default;
    }

    /// <summary>
    /// Ends the request early: the caller's next read fails with <paramref name="error"/> at once, and the server is told
    /// with a CANCEL carrying <paramref name="reason"/> unless the connection is gone.
    /// </summary>
    public void Abort(Exception error, PlexusErrorCode reason)
    {
        bool cancel;
        lock (_gate)
        {
            AbortLocked(error, reason, out cancel);
        }

        if (cancel)
        {
            DisposeTimer();
        }
    }

    /// <summary>Counts a payload frame that borrows the caller's memory.</summary>
    public void PayloadFrameQueued()
    {
        lock (_gate)
        {
            _unwritten++;
        }
    }

    /// <inheritdoc />
    public void OnFrameDone(bool written)
    {
        TaskCompletionSource? done = null;
        lock (_gate)
        {
            if (--_unwritten == 0)
            {
                done = _allWritten;
                _allWritten = null;
            }
        }

        done?.TrySetResult();
    }

    /// <summary>Completes when no queued frame refers to the caller's payload any more.</summary>
    public Task PayloadReleasedAsync()
    {
        lock (_gate)
        {
            if (_unwritten == 0)
            {
                return Task.CompletedTask;
            }

            _allWritten ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _allWritten.Task;
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);

    private static PlexusException DeadlinePassed(DateTimeOffset deadline) =>
        new(PlexusErrorCode.Timeout, $"The request's deadline ({deadline.ToString("O", CultureInfo.InvariantCulture)}) passed before the response ended.");

    private static OperationCanceledException ReadCancelled(CancellationToken token) =>
        new("The read was cancelled, and with it the request.", token);

    private void OnDeadline()
    {
        DateTimeOffset deadline;
        lock (_gate)
        {
            deadline = _deadline;
        }

        Abort(DeadlinePassed(deadline), PlexusErrorCode.Timeout);
    }

    private void AbortLocked(Exception error, PlexusErrorCode reason, out bool cancelled)
    {
        cancelled = false;
        if (_ended)
        {
            return;
        }

        _ended = true;
        _abortError = error;
        DiscardAssemblyLocked();
        WakeLocked();

        // A cancelled stream gets no more credit either; a sender waiting for it stops here.
        SendWindow.Close(error);
        cancelled = true;
        _session.Cancel(this, reason);
    }

    private void DiscardAssemblyLocked()
    {
        _assembly?.Discard();
        _connection.ReturnCredit(_withheld);
        _withheld = 0;
    }

    private void WakeLocked()
    {
        if (_waiting)
        {
            _waiting = false;

            // Never inline under the lock: the caller's code would run holding it.
            _signal.RunContinuationsAsynchronously = true;
            _signal.SetResult(true);
        }
    }

    private void ReturnLocked(int credit)
    {
        _connection.ReturnCredit(credit);
        if (_ended)
        {
            return;
        }

        _pendingReturn += credit;
        if (_pendingReturn >= _returnThreshold)
        {
            _receiveRemaining += _pendingReturn;
            _connection.Send(new OutgoingFrame(FrameType.Credit, 0, Id, value: (ulong)_pendingReturn));
            _pendingReturn = 0;
        }
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
