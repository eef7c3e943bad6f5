namespace Plexus.Transport.Tcp;

/// <summary>
/// The end in the last frame (protocol version 3): a response that ends normally sets END_STREAM on its last DATA or
/// MESSAGES frame instead of sending END, whenever that frame has not been written yet. Two ways get it there:
/// <list type="bullet">
/// <item>A frame the stream holds: the last frame of the handler's final flush, and the DATA frame ending the last
/// message of its first flush while the handler has not yet awaited anything (a unary answer). <see cref="End"/>
/// sends it with END_STREAM. A first-flush frame goes out without it as soon as the handler does anything more:
/// flushes again, needs a fresh buffer, or awaits (the dispatch does not complete synchronously,
/// <see cref="EndDeferral"/>).</item>
/// <item>A frame still waiting in the connection's queue: each response frame that may end the stream carries a
/// sequence number, and the stream's tail word holds the number of its latest such frame and whether the writer has
/// taken it. Ending the stream and the writer taking the frame both change that word with one compare-and-swap, so
/// exactly one of them wins: the end joins the frame, or the frame is on its way without it and END follows.</item>
/// </list>
/// A stream that ends otherwise (aborted, failed) drops its held frame, so a held frame always belongs to a response
/// still open. Frames a stream holds are sent under the stream's lock, and the handler's thread sends nothing of its
/// own while a frame of its own is held (it sends that one first), so frames keep the order they were flushed in.
/// </summary>
internal sealed partial class TcpExchange : IResponseTail
{
    // The tail word: the sequence number of the stream's latest DATA or MESSAGES frame, times 4, plus its state.
    private const long TailPending = 0;
    private const long TailTaken = 1;
    private const long TailEnded = 2;
    private const long TailStateMask = 3;

    private long _tail = TailTaken;
    private uint _sequence;

    // Under _gate: the frame held back and its credit, whether it is the final flush's (only End sends it), and
    // whether the handler has gone past its first await. _holding is also read without the lock.
    private OutgoingFrame _held;
    private int _heldCredit;
    private bool _heldFinal;
    private bool _holding;
    private bool _deferralOver;

    /// <summary>
    /// Holds a response frame (its credit taken) instead of queueing it: the final flush's last frame
    /// (<paramref name="final"/>), to go with the end, or the last frame of the handler's first flush, before its first
    /// await. The handler's thread must call <see cref="ReleaseHeld"/> before it sends anything else.
    /// </summary>
    /// <returns><see langword="false"/> when the frame must be sent as usual: the handler has awaited, or the stream ended.</returns>
    public bool TryHold(in OutgoingFrame frame, int credit, bool final)
    {
        lock (_gate)
        {
            if (_responseEnded || (!final && _deferralOver))
            {
                return false;
            }

            _held = frame;
            _heldCredit = credit;
            _heldFinal = final;
            Volatile.Write(ref _holding, true);
            return true;
        }
    }

    /// <summary>The handler awaits: a frame held for the end goes out now, and nothing more is held for it.</summary>
    public void EndDeferral()
    {
        lock (_gate)
        {
            _deferralOver = true;
            if (_holding && !_heldFinal)
            {
                SendHeldLocked();
            }
        }
    }

    /// <summary>The handler sends more: a frame it had held goes first. Called on the handler's thread.</summary>
    public void ReleaseHeld()
    {
        if (!Volatile.Read(ref _holding))
        {
            return;
        }

        lock (_gate)
        {
            if (_holding)
            {
                SendHeldLocked();
            }
        }
    }

    /// <inheritdoc />
    public byte Take(uint sequence)
    {
        var pending = (long)sequence << 2;
        var seen = Interlocked.CompareExchange(ref _tail, pending | TailTaken, pending);
        return seen == (pending | TailEnded) ? Wire.EndStream : (byte)0;
    }

    // A response frame about to be queued: on a version-3 connection it becomes the stream's latest, and one that ends a
    // message is numbered so that the end may still join it while it waits. Called by the one thread sending at a time.
    private OutgoingFrame Stamp(in OutgoingFrame frame)
    {
        if (!_connection.EndsInFrame)
        {
            return frame;
        }

        var sequence = ++_sequence;
        if (frame.Type == FrameType.Messages || (frame.Flags & Wire.EndMessage) != 0)
        {
            Volatile.Write(ref _tail, (long)sequence << 2);
            return frame with { Tail = this, Value = sequence };
        }

        // A piece of a message: the end can never join it, nor any frame before it.
        Volatile.Write(ref _tail, ((long)sequence << 2) | TailTaken);
        return frame;
    }

    // The normal end, without an END frame: in the held frame, or in the latest frame while the writer has not taken it.
    private bool TryEndInFrameLocked(ref byte[]? trailing)
    {
        if (_holding)
        {
            // The held frame is the response's last: it carries the end, and the writer's last buffer when it has none.
            var frame = _held with { Flags = (byte)(_held.Flags | Wire.EndStream), Buffer = _held.Buffer ?? trailing };
            if (_held.Buffer is null)
            {
                trailing = null;
            }

            var credit = _heldCredit;
            ClearHeldLocked();
            if (!_connection.Send(frame))
            {
                ReturnHeldCredit(frame, credit);
            }

            return true;
        }

        var tail = Volatile.Read(ref _tail);
        return (tail & TailStateMask) == TailPending && Interlocked.CompareExchange(ref _tail, tail | TailEnded, tail) == tail;
    }

    // Sends the held frame as it is, numbered like any other, ahead of what comes next.
    private void SendHeldLocked()
    {
        var frame = Stamp(_held);
        var credit = _heldCredit;

        // Cleared only once queued: the handler's thread, seeing it cleared without the lock, may send its next frame.
        var sent = _connection.Send(frame);
        ClearHeldLocked();
        if (!sent)
        {
            ReturnHeldCredit(frame, credit);
        }
    }

    // The stream ended before the held frame went out: its connection credit goes back, its buffer stays with the
    // writer's (or is left to the collector, as for any frame that could not be queued).
    private void DropHeldLocked()
    {
        if (_holding)
        {
            var frame = _held;
            var credit = _heldCredit;
            ClearHeldLocked();
            ReturnHeldCredit(frame, credit);
        }
    }

    private void ClearHeldLocked()
    {
        _held = default;
        _heldCredit = 0;
        Volatile.Write(ref _holding, false);
    }

    private void ReturnHeldCredit(in OutgoingFrame frame, int credit)
    {
        frame.Batch?.Seal();
        _connection.SendWindow.Add(credit);
    }
}
