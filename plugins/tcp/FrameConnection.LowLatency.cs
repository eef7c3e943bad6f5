using System.IO.Pipelines;
using System.Threading.Channels;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Low-latency mode (<see cref="TcpTransportOptions.LowLatency"/>): a reader thread of the connection's own
/// (<see cref="DedicatedSocketReader"/>) on which the reader loop runs as bytes arrive, and write-through: a frame sent
/// while the writer is idle is written and flushed by its sender, with no hand-off to the writer loop. One lock orders
/// write-through against the writer loop, which holds it from taking frames off the queue through its write and the
/// start of its flush; a sender only writes through when the queue is empty and no flush is in progress, so frames
/// keep the order they were sent in. A sender never waits: it only tries the lock (it may hold a stream's lock that the
/// writer loop, telling a frame's observer, needs), and a flush the socket does not take at once is left to complete
/// on its own while the writer loop waits for it. Frames sent by the reader loop while it dispatches one read (replies,
/// credit, the responses of handlers that run inline, the requests of callers it wakes) are written without a flush and
/// flushed once at the end of the read, so a unary response leaves in one segment: one frame on protocol version 3
/// (the stream holds its answer back to carry the end, see TcpExchange.Ending.cs), the answer and its END before.
/// </summary>
internal sealed partial class FrameConnection
{
    // Room for a codec's own prefix on top of a frame's header and body limits, when sizing the reader thread's pipe.
    private const int CodecSlack = 1024;

    private readonly Lock _writeGate = new();

    private readonly bool _lowLatencyRequested;

    private bool _lowLatency;

    // Under _writeGate: a flush has started and not completed (the writer loop's own, or one handed on by a sender),
    // and nothing may touch the output until it completes; the hand-off; and the end of writing (the writer loop has
    // finished, or the output failed).
    private bool _flushPending;
    private Task? _handedFlush;
    private bool _writeStopped;

    // The thread running the reader loop's dispatch of a read, while it does; 0 otherwise.
    private int _dispatchThread;

    /// <summary>
    /// Whether the caller is the reader loop dispatching a read in low-latency mode, where it may run a request or a
    /// caller's continuation inline, with no lock held.
    /// </summary>
    public bool IsDispatching => Volatile.Read(ref _dispatchThread) == Environment.CurrentManagedThreadId;

    /// <summary>
    /// Whether a waiter woken here may resume here: on the dispatching reader thread, and not inside a write, which a
    /// resumed sender would otherwise re-enter (the writer gives back a batch's unused credit while it writes it).
    /// </summary>
    public bool MayResumeInline => IsDispatching && !_writeGate.IsHeldByCurrentThread;

    /// <summary>Whether this connection has a reader thread of its own (low-latency mode, within its cap).</summary>
    public bool IsLowLatency => Volatile.Read(ref _lowLatency);

    // Called by Start, before the loops. A connection whose handshake ran on a connection thread of its own (low-latency
    // mode, within its cap) reads on that thread from now on; any other runs as in the default mode.
    private void StartReaderThread()
    {
        if (!_lowLatencyRequested || !ConnectionThreads.IsCurrent)
        {
            return;
        }

        var largestFrame = (long)Local.MaxFrameHeaderBytes + Local.MaxFrameBodyBytes + CodecSlack;
        var reader = new DedicatedSocketReader(_stream, _input, largestFrame);
        _input = reader.Input;
        _lowLatency = true;
        ConnectionThreads.ThenOnThisThread(reader.Run);
    }

    private void BeginDispatch()
    {
        if (_lowLatency)
        {
            Volatile.Write(ref _dispatchThread, Environment.CurrentManagedThreadId);
        }
    }

    // One flush for what the read's dispatch wrote. When the lock is taken, its holder flushes those bytes: the writer
    // loop and write-through flush whatever is written, and a flush completing covers them already.
    private void EndDispatch()
    {
        if (!_lowLatency)
        {
            return;
        }

        Volatile.Write(ref _dispatchThread, 0);
        if (!_writeGate.TryEnter())
        {
            return;
        }

        Exception? failure = null;
        try
        {
            if (_unflushed > 0 && !_flushPending && !_writeStopped && !IsClosed)
            {
                failure = FlushWrittenLocked();
            }
        }
        finally
        {
            _writeGate.Exit();
        }

        if (failure is not null)
        {
            FailWrite(failure);
        }
    }

    // Writes a frame that Send has counted, when the writer is idle.
    private bool TryWriteThrough(in OutgoingFrame frame)
    {
        // A frame sent from inside a write (the lock is this thread's already) is queued behind it, not written into it.
        if (_writeGate.IsHeldByCurrentThread || !_writeGate.TryEnter())
        {
            return false;
        }

        Exception? failure = null;
        try
        {
            if (_flushPending || _writeStopped || IsClosed || Volatile.Read(ref _graceful) || _outgoing.Reader.TryPeek(out _))
            {
                return false;
            }

            Write(frame);
            if (!IsDispatching || _unflushed >= FlushThreshold)
            {
                failure = FlushWrittenLocked();
            }
        }
        finally
        {
            _writeGate.Exit();
        }

        if (failure is not null)
        {
            FailWrite(failure);
        }

        return true;
    }

    // Flushes what is written: completed here when the socket takes it at once, else left to complete on its own.
    private Exception? FlushWrittenLocked()
    {
        try
        {
            var flush = BeginFlush();
            if (flush.IsCompleted)
            {
                flush.GetAwaiter().GetResult();
                EndFlush();
            }
            else
            {
                _flushPending = true;
                _handedFlush = FinishHandedFlushAsync(flush);
            }

            return null;
        }
        catch (Exception exception)
        {
            _writeStopped = true;
            return exception;
        }
    }

    private async Task FinishHandedFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
            lock (_writeGate)
            {
                EndFlush();
                _flushPending = false;
            }
        }
        catch (Exception exception)
        {
            lock (_writeGate)
            {
                _writeStopped = true;
            }

            FailWrite(exception);
        }
    }

    // The output failed. Closing tells every stream, which takes their locks and may run their callers' code: never on
    // a sender's thread, which may hold a stream's lock itself.
    private void FailWrite(Exception exception) =>
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                if (!state.Connection.IsClosed)
                {
                    state.Connection.Abort(PlexusException.Unavailable($"Writing to {state.Connection.PeerName} failed: {state.Error.Message}"));
                }
            },
            (Connection: this, Error: exception),
            preferLocal: false);

    // The writer loop's turn in low-latency mode: everything queued, under the lock, until the queue is empty.
    private async ValueTask WriteQueuedLowLatencyAsync(ChannelReader<OutgoingFrame> reader)
    {
        while (true)
        {
            Task? handed = null;
            ValueTask<FlushResult> flush = default;
            lock (_writeGate)
            {
                if (_writeStopped)
                {
                    throw new IOException($"Writing to {PeerName} failed.");
                }

                if (_flushPending)
                {
                    // A sender's flush that the socket did not take at once: the output is its until it completes.
                    handed = _handedFlush;
                }
                else
                {
                    var any = false;
                    while (_unflushed < FlushThreshold && reader.TryRead(out var frame))
                    {
                        Write(frame);
                        any = true;
                    }

                    if (!any && _unflushed == 0)
                    {
                        return;
                    }

                    flush = BeginFlush();
                    if (flush.IsCompleted)
                    {
                        flush.GetAwaiter().GetResult();
                        EndFlush();
                        continue;
                    }

                    _flushPending = true;
                }
            }

            if (handed is not null)
            {
                await handed.ConfigureAwait(false);
                continue;
            }

            await flush.ConfigureAwait(false);
            lock (_writeGate)
            {
                EndFlush();
                _flushPending = false;
            }
        }
    }

    // Once the writer loop ends, nothing writes through any more; a flush handed on completes first.
    private Task StopWriteThroughAsync()
    {
        if (!_lowLatency)
        {
            return Task.CompletedTask;
        }

        lock (_writeGate)
        {
            _writeStopped = true;
            return _flushPending && _handedFlush is { } handed ? handed : Task.CompletedTask;
        }
    }
}
