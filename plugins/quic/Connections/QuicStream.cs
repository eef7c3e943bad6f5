using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// One QUIC stream. Bytes from the peer arrive in <see cref="Input"/> in order; consuming them returns flow-control
/// credit, so a reader that stops holds the peer back. Bytes written to <see cref="Output"/> stay in pinned chunks
/// until the peer acknowledges them. Send and receive state is guarded by the connection's gate.
/// </summary>
internal sealed unsafe partial class QuicStream
{
    private static readonly PipeOptions InputOptions = new(
        readerScheduler: PipeScheduler.ThreadPool, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 16 * 1024, useSynchronizationContext: false);

    private readonly QuicConnection _connection;
    private readonly Pipe _input = new(InputOptions);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _sendBufferBytes;

    // Send state, under the connection's gate.
    private readonly List<byte[]> _chunks = [];
    private long _baseOffset;
    private long _committed;
    private long _sent;
    private long _acknowledged;
    private bool _finRequested;
    private bool _finSent;
    private Exception? _writeFailure;
    private TaskCompletionSource? _drained;

    // Called once QUIC has taken every committed byte (see WhenSent).
    private Action<object?>? _whenSent;
    private object? _whenSentState;
    private bool _writerDone;

    // Receive state, under the connection's gate.
    private long _received;
    private long _consumed;
    private long _streamCreditOwed;
    private bool _creditClosed;
    private readonly object _creditGate = new();
    private bool _inputDone;
    private bool _readerGone;
    private bool _closed;

    internal QuicStream(QuicConnection connection, long id, bool local, bool bidirectional, int sendBufferBytes)
    {
        _connection = connection;
        Id = id;
        IsLocal = local;
        IsBidirectional = bidirectional;
        _sendBufferBytes = sendBufferBytes;
        Input = new QuicStreamReader(this, _input.Reader);
        Output = new QuicStreamWriter(this);
        if (!bidirectional && local)
        {
            // A unidirectional stream this side opened receives nothing.
            _inputDone = true;
            _input.Writer.Complete();
        }

        if (!bidirectional && !local)
        {
            _finRequested = _finSent = true;
        }
    }

    /// <summary>The QUIC stream id.</summary>
    public long Id { get; }

    /// <summary>Whether the stream carries data both ways.</summary>
    public bool IsBidirectional { get; }

    /// <summary>Whether this side opened it.</summary>
    public bool IsLocal { get; }

    /// <summary>Data from the peer, in order; completes at the peer's FIN.</summary>
    public PipeReader Input { get; }

    /// <summary>Data to the peer; <see cref="PipeWriter.Complete(Exception?)"/> sends FIN (or a reset, given an exception).</summary>
    public PipeWriter Output { get; }

    /// <summary>Completes when both directions are finished and the stream has left the connection.</summary>
    public Task Completed => _completed.Task;

    /// <summary>Whether the stream is in the connection's send line.</summary>
    internal bool Queued { get; set; }

    internal bool HasPending => _writeFailure is null && (_sent < _committed || (_finRequested && !_finSent));

    internal object Gate => _connection.SyncRoot;

    /// <summary>Resets the sending side and stops the receiving side with an application error code. Idempotent.</summary>
    public void Abort(ulong applicationErrorCode)
    {
        lock (Gate)
        {
            _writeFailure ??= new IOException($"the stream was aborted by this side (0x{applicationErrorCode:x})");
            ReleaseDrainWaiter();
            CompleteInput(new IOException($"the stream was aborted by this side (0x{applicationErrorCode:x})"));
        }

        _connection.Shutdown(Id, applicationErrorCode, write: IsBidirectional || IsLocal, read: IsBidirectional || !IsLocal);
    }

    /// <summary>Asks the peer to stop sending (STOP_SENDING) and drops what arrives from now on.</summary>
    public void AbortRead(ulong applicationErrorCode)
    {
        lock (Gate)
        {
            _readerGone = true;
        }

        _connection.Shutdown(Id, applicationErrorCode, write: false, read: true);
    }

    // ---- called by the writer (application thread) ----

    internal byte[] AddChunk()
    {
        var chunk = SendChunks.Rent();
        lock (Gate)
        {
            _chunks.Add(chunk);
        }

        return chunk;
    }

    /// <summary>Makes bytes up to <paramref name="written"/> sendable, sends what can go, and says whether the writer must wait.</summary>
    internal Task? Commit(long written, bool fin)
    {
        lock (Gate)
        {
            if (_writeFailure is { } failure)
            {
                return Task.FromException(failure);
            }

            // What the connection owes the peer grows by the bytes handed over (acknowledgements shrink it again).
            _connection.Owe(written - _committed);
            _committed = written;
            _finRequested |= fin;
            _writerDone |= fin;
        }

        // A stream that ends goes out at once when it is alone; otherwise, and for a flush that may be followed by
        // more, it is sent shortly from the thread pool, so the frames of many streams share packets.
        if (fin && _connection.StreamCount <= 1)
        {
            _connection.Flush(this);
        }
        else
        {
            _connection.ScheduleFlush(this);
        }

        lock (Gate)
        {
            if (_writeFailure is { } failure)
            {
                return Task.FromException(failure);
            }

            return RoomLocked();
        }
    }

    /// <summary>
    /// Whether committed bytes still wait for QUIC to take them. Read without the connection's gate, so it may be a
    /// moment behind; <see cref="WhenSent"/> decides under the gate.
    /// </summary>
    internal bool HasUnsent => Volatile.Read(ref _sent) < Volatile.Read(ref _committed);

    /// <summary>
    /// Runs <paramref name="callback"/> on the thread pool once QUIC has taken every byte committed so far (at once if
    /// it has, or the stream has failed): a writer that holds messages back while the stream is busy frames them then.
    /// </summary>
    internal void WhenSent(Action<object?> callback, object state)
    {
        lock (Gate)
        {
            if (_writeFailure is null && _sent < _committed)
            {
                _whenSent = callback;
                _whenSentState = state;
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(callback, state, preferLocal: false);
    }

    /// <summary>
    /// After a wait <see cref="Commit"/> returned: what to wait for next, or null once the stream has room and its
    /// connection too (or the stream has failed: the next commit says so).
    /// </summary>
    internal Task? Room()
    {
        lock (Gate)
        {
            return _writeFailure is null ? RoomLocked() : null;
        }
    }

    private Task? RoomLocked()
    {
        if (_committed - _sent <= _sendBufferBytes)
        {
            // A request stream's writer also waits while its connection owes the peer its whole budget.
            return IsBidirectional ? _connection.SendRoomLocked() : null;
        }

        _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _drained.Task;
    }

    // ---- called by the reader (application thread) ----

    /// <summary>
    /// The reader consumed <paramref name="bytes"/>. Credit goes back in batches, without the connection's gate in
    /// between: a stream's after 16 KiB of its 1 MiB-class window, the connection's after 64 KiB across streams (its
    /// window is 16 MiB), so a small message costs no lock and no call into ngtcp2, and no window is ever held back by
    /// more than a batch. What a stream never returned goes back when it closes.
    /// </summary>
    internal void Consumed(long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        long streamCredit = 0;
        lock (_creditGate)
        {
            if (_creditClosed)
            {
                return;
            }

            _consumed += bytes;
            _streamCreditOwed += bytes;
            if (_streamCreditOwed >= _connection.StreamCreditBatch)
            {
                streamCredit = _streamCreditOwed;
                _streamCreditOwed = 0;
            }
        }

        _connection.CreditConsumed(Id, bytes, streamCredit);
    }

    internal void ReaderCompleted()
    {
        bool stop;
        lock (Gate)
        {
            stop = !_inputDone && !_closed;
            _readerGone = true;
        }

        if (stop)
        {
            _connection.Shutdown(Id, QuicErrorCodes.Cancelled, write: false, read: true);
        }
    }

    // ---- called by the connection, under its gate ----

    internal bool TryGetPending(ngtcp2_vec* vectors, int max, out int count, out long pending, out bool fin)
    {
        count = 0;
        pending = 0;
        fin = false;
        if (_writeFailure is not null)
        {
            return false;
        }

        var offset = _sent;
        while (offset < _committed && count < max)
        {
            var index = (int)((offset - _baseOffset) / SendChunks.Size);
            var within = (int)((offset - _baseOffset) % SendChunks.Size);
            var length = (int)Math.Min(SendChunks.Size - within, _committed - offset);
            vectors[count].@base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_chunks[index])) + within;
            vectors[count].len = (nuint)length;
            count++;
            offset += length;
            pending += length;
        }

        fin = _finRequested && !_finSent && offset == _committed;
        return count > 0 || fin;
    }

    internal void OnSent(nint written, long pending, bool fin)
    {
        if (written < 0)
        {
            return;
        }

        _sent += written;
        if (fin && written == pending && _sent == _committed)
        {
            _finSent = true;
        }

        if (_drained is not null && _committed - _sent <= _sendBufferBytes)
        {
            ReleaseDrainWaiter();
        }

        if (_whenSent is not null && _sent == _committed)
        {
            CallWhenSent();
        }
    }

    internal void OnAcknowledged(long offset)
    {
        var acknowledged = offset - _acknowledged;
        if (acknowledged >= 0)
        {
            _acknowledged = offset;
            _connection.Acknowledged(acknowledged);
        }

        while (_chunks.Count > 0 && _baseOffset + SendChunks.Size <= offset)
        {
            SendChunks.Return(_chunks[0]);
            _chunks.RemoveAt(0);
            _baseOffset += SendChunks.Size;
        }
    }

    internal void OnReceived(ReadOnlySpan<byte> data, bool fin)
    {
        if (_inputDone || _readerGone)
        {
            // Nobody will read it: the connection's credit goes straight back.
            _received += data.Length;
            lock (_creditGate)
            {
                _consumed += data.Length;
            }

            _connection.ReturnCreditInline(Id, data.Length);
        }
        else
        {
            if (!data.IsEmpty)
            {
                _input.Writer.Write(data);
                _received += data.Length;
            }

            // Never waits: the pipe has no pause threshold; QUIC flow control bounds what it holds.
            _ = _input.Writer.FlushAsync().AsTask();
        }

        if (fin)
        {
            CompleteInput(null);
        }
    }

    internal void OnPeerReset(ulong code) => CompleteInput(new QuicStreamAbortedException(code, reset: true));

    internal void OnPeerStopSending(ulong code)
    {
        _writeFailure ??= new QuicStreamAbortedException(code, reset: false);
        ReleaseDrainWaiter();
    }

    internal void OnClosed(ulong code)
    {
        _closed = true;
        CompleteInput(new QuicStreamAbortedException(code, reset: true));
        if (_sent < _committed || (_finRequested && !_finSent))
        {
            _writeFailure ??= new QuicStreamAbortedException(code, reset: false);
        }

        _writeFailure ??= new IOException("the stream has ended");
        ReleaseDrainWaiter();
        ReleaseChunks();

        // What the peer never acknowledged is no longer owed: the stream has let go of it.
        _connection.Owe(_acknowledged - _committed);
        _acknowledged = _committed;

        // Bytes that arrived and were never consumed still count against the connection's window; those consumed and
        // not yet returned are in the connection's batch.
        long unconsumed;
        lock (_creditGate)
        {
            _creditClosed = true;
            unconsumed = _received - _consumed;
            _consumed = _received;
        }

        if (unconsumed > 0)
        {
            _connection.ReturnConnectionCreditInline(unconsumed);
        }

        _completed.TrySetResult();
    }

    internal void OnConnectionClosed(Exception exception)
    {
        _closed = true;
        CompleteInput(exception);
        _writeFailure ??= exception;
        ReleaseDrainWaiter();
        ReleaseChunks();
        _completed.TrySetResult();
    }

    private void CompleteInput(Exception? exception)
    {
        if (_inputDone)
        {
            return;
        }

        _inputDone = true;
        _input.Writer.Complete(exception);
    }

    private void CallWhenSent()
    {
        var callback = _whenSent!;
        var state = _whenSentState;
        _whenSent = null;
        _whenSentState = null;
        ThreadPool.UnsafeQueueUserWorkItem(callback, state, preferLocal: false);
    }

    private void ReleaseDrainWaiter()
    {
        if (_whenSent is not null && _writeFailure is not null)
        {
            // Nothing more will be taken: the writer must not wait for it.
            CallWhenSent();
        }

        var waiter = _drained;
        _drained = null;
        if (waiter is not null)
        {
            if (_writeFailure is { } failure && _sent < _committed)
            {
                waiter.TrySetException(failure);
            }
            else
            {
                waiter.TrySetResult();
            }
        }
    }

    private void ReleaseChunks()
    {
        // Chunks go back to the pool only when the writer is finished with them; otherwise it may still be writing
        // into the last one, and the GC takes them.
        if (_writerDone)
        {
            foreach (var chunk in _chunks)
            {
                SendChunks.Return(chunk);
            }
        }

        _chunks.Clear();
    }

    internal void WriterDone()
    {
        lock (Gate)
        {
            _writerDone = true;
        }
    }
}
