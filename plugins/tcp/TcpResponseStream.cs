using System.Buffers;
using System.Buffers.Binary;
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
internal sealed class TcpResponseStream : IResponseStream, IFrameObserver, IValueTaskSource<bool>
{
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    // Messages up to this size go into a shared block; larger ones are worth an array of their own.
    private const int SmallMessageBytes = 1024;
    private const int BlockBytes = 16 * 1024;

    private readonly ClientSession _session;
    private readonly FrameConnection _connection;
    private readonly ArrayPool<byte> _pool;
    private readonly Queue<ReceivedMessage> _messages = new();
    private readonly PayloadBuilder _assembly;
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
        _assembly = new PayloadBuilder(_pool);
        _maxMessageBytes = maxMessageBytes;
        _receiveRemaining = connection.Local.StreamWindowBytes;
        _returnThreshold = connection.Local.StreamWindowBytes / 4;
        SendWindow = new CreditWindow(connection.Peer.StreamWindowBytes);
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
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (true)
        {
            short version;
            lock (_gate)
            {
                // Moving on releases the message read before, in the same lock as taking the next.
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

        // Disposing before the end cancels the request on the server.
        Abort(new ObjectDisposedException(nameof(TcpResponseStream), "The response stream was disposed."), PlexusErrorCode.Cancelled);
        Timer? timer;
        lock (_gate)
        {
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

    /// <summary>Payload bytes of a response message arrived; called on the reader loop.</summary>
    /// <exception cref="PlexusException">The server broke flow control (a connection error).</exception>
    public void OnData(in ReadOnlySequence<byte> body, bool endMessage)
    {
        var charge = (int)body.Length + Wire.FrameCharge;
        PlexusException? tooLarge = null;
        lock (_gate)
        {
            if (_ended || _disposed)
            {
                _connection.ReturnCredit(charge);
                return;
            }

            _receiveRemaining -= charge;
            if (_receiveRemaining < 0)
            {
                throw PlexusException.Protocol($"Stream {Id} received more than its window of {_connection.Local.StreamWindowBytes} bytes of credit; flow control was not respected.");
            }

            var length = _assembly.Length + body.Length;
            if (length > _maxMessageBytes)
            {
                tooLarge = PlexusException.TooLarge("response message", length, _maxMessageBytes, TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxPayloadBytes)));
                _connection.ReturnCredit(charge);
            }
            else if (endMessage && _assembly.IsEmpty && _withheld == 0 && body.Length <= SmallMessageBytes)
            {
                // Its credit is its length + the frame charge, which the caller works out again when moving past it.
                AppendSmallLocked(body);
                ScheduleWakeLocked();
            }
            else
            {
                _assembly.Append(body, _assembly.IsEmpty && endMessage ? (int)body.Length : 16 * 1024);
                if (endMessage)
                {
                    CloseRunLocked();
                    _messages.Enqueue(new ReceivedMessage(_assembly.Take(), _withheld + charge, null, 0));
                    _withheld = 0;
                    ScheduleWakeLocked();
                }
                else if (NothingToReadLocked())
                {
                    // Nothing else to read: holding this credit could only stall a message larger than the window.
                    ReturnLocked(charge);
                }
                else
                {
                    _withheld += charge;
                }
            }
        }

        if (tooLarge is not null)
        {
            Abort(tooLarge, PlexusErrorCode.Cancelled);
        }
    }

    /// <summary>Wakes the caller if messages queued during this read are waiting for it; called on the reader loop.</summary>
    public void WakeScheduled()
    {
        _wakeScheduled = false;
        lock (_gate)
        {
            WakeLocked();
        }
    }

    /// <summary>The server ended the stream (END, or ERROR with <paramref name="error"/>); queued messages are still read first.</summary>
    public void OnEnd(PlexusException? error)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _endError = error;
            DiscardAssemblyLocked();
            WakeLocked();
        }

        // The server grants no more credit for an ended stream: a sender still waiting for some must fail, not hang.
        SendWindow.Close(error ?? PlexusException.Unavailable($"Stream {Id} has ended; it takes no more request payload."));
        DisposeTimer();
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
        _assembly.Discard();
        _connection.ReturnCredit(_withheld);
        _withheld = 0;
    }

    private void WakeLocked()
    {
        if (_waiting)
        {
            _waiting = false;
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

    private void ReleaseCurrentLocked()
    {
        if (!_hasCurrent)
        {
            return;
        }

        var current = _current;
        _current = default;
        _hasCurrent = false;
        if (_currentBlock is not null)
        {
            _currentBlock = null;
            ReturnLocked(_currentLength + Wire.FrameCharge);
        }
        else
        {
            current.Payload.Return(_pool);
            ReturnLocked(current.Credit);
        }

        if (NothingToReadLocked() && _withheld > 0)
        {
            // The caller has caught up; the message still arriving must be allowed to finish.
            ReturnLocked(_withheld);
            _withheld = 0;
        }
    }

    // The reader loop wakes a waiting caller once it has parsed everything it read, so a burst costs one wake-up.
    private void ScheduleWakeLocked()
    {
        if (_waiting && !_wakeScheduled)
        {
            _wakeScheduled = true;
            _session.ScheduleWake(this);
        }
    }

    // Whether the caller has read everything that arrived complete.
    private bool NothingToReadLocked() =>
        !_hasCurrent && _messages.Count == 0 && (_run is null || _runOffset == _run.Used);

    // Takes the next message, small or large, as the current one.
    private bool TryTakeLocked()
    {
        while (true)
        {
            if (_run is { } run)
            {
                if (_runOffset == run.Used)
                {
                    // Caught up with the open run: nothing else is queued behind it.
                    return false;
                }

                var length = BinaryPrimitives.ReadInt32LittleEndian(run.Array.AsSpan(_runOffset));
                if (length != MessageBlock.EndOfRun)
                {
                    _currentBlock = run;
                    _currentOffset = _runOffset + MessageBlock.PrefixBytes;
                    _currentLength = length;
                    _runOffset = _currentOffset + length;
                    _hasCurrent = true;
                    return true;
                }

                FinishRunLocked(run);
                _run = null;
            }

            if (!_messages.TryDequeue(out var message))
            {
                return false;
            }

            if (message.Block is { } block)
            {
                _run = block;
                _runOffset = message.Offset;
                continue;
            }

            _current = message;
            _hasCurrent = true;
            return true;
        }
    }

    private void AppendSmallLocked(in ReadOnlySequence<byte> body)
    {
        var length = (int)body.Length;

        // Room for the message and for the end-of-run mark that may follow it.
        var needed = length + (2 * MessageBlock.PrefixBytes);
        if (!_runOpen || _block!.Array.Length - _block.Used < needed)
        {
            CloseRunLocked();
            var block = _block;
            if (block is not null && block.Runs == 0)
            {
                // Everything in it has been read: start again at the front.
                block.Used = 0;
            }

            if (block is null || block.Array.Length - block.Used < needed)
            {
                if (block is not null && block.Runs == 0)
                {
                    Recycle(block);
                }

                // A full block with unread runs stays with them; the caller recycles it after the last one.
                block = _spare ?? new MessageBlock(_pool.Rent(BlockBytes));
                _spare = null;
                block.Used = 0;
                _block = block;
            }

            block.Runs++;
            _messages.Enqueue(new ReceivedMessage(default, 0, block, block.Used));
            _runOpen = true;
        }

        var target = _block!;
        BinaryPrimitives.WriteInt32LittleEndian(target.Array.AsSpan(target.Used), length);
        body.CopyTo(target.Array.AsSpan(target.Used + MessageBlock.PrefixBytes));
        target.Used += MessageBlock.PrefixBytes + length;
    }

    // Ends the open run, so that what is queued after it is read after it.
    private void CloseRunLocked()
    {
        if (!_runOpen)
        {
            return;
        }

        var block = _block!;
        BinaryPrimitives.WriteInt32LittleEndian(block.Array.AsSpan(block.Used), MessageBlock.EndOfRun);
        block.Used += MessageBlock.PrefixBytes;
        _runOpen = false;
    }

    private void FinishRunLocked(MessageBlock block)
    {
        if (--block.Runs == 0 && block != _block)
        {
            Recycle(block);
        }
    }

    // Returns the connection credit of the unread messages of a run that will never be read, and finishes it.
    private void DiscardRunLocked(MessageBlock block, int offset)
    {
        var credit = 0;
        while (offset < block.Used)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(block.Array.AsSpan(offset));
            if (length == MessageBlock.EndOfRun)
            {
                break;
            }

            credit += length + Wire.FrameCharge;
            offset += MessageBlock.PrefixBytes + length;
        }

        _connection.ReturnCredit(credit);
        FinishRunLocked(block);
    }

    private void Recycle(MessageBlock block)
    {
        if (_spare is null)
        {
            _spare = block;
        }
        else
        {
            _pool.Return(block.Array);
        }
    }

    // Called once nothing will be read any more: the blocks go back to the pool.
    private void ReleaseBlocksLocked()
    {
        if (_block is not null)
        {
            _pool.Return(_block.Array);
            _block = null;
            _runOpen = false;
        }

        _run = null;
        if (_spare is not null)
        {
            _pool.Return(_spare.Array);
            _spare = null;
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
