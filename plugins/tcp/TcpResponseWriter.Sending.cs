using System.Buffers;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Tcp;

/// <summary>Sending the ended messages: runs of small whole messages as MESSAGES frames, the rest as DATA frames, each under credit.</summary>
internal sealed partial class TcpResponseWriter
{
    // Batches of this stream: the one still waiting in the connection's queue (it may grow while its credit lasts),
    // and sealed ones to fill again.
    private readonly List<OutgoingBatch> _batches = [];
    private OutgoingBatch? _openBatch;
    private int _openCount;
    private int _openEnd;
    private int _openCredit;

    // What a new batch takes beyond its messages' credit, for the flushes after it to join it.
    private BatchReserve _reserve;

    // Whether a flush has sent messages before: a response's first lone message goes as a DATA frame.
    private bool _flushed;

    // Whether the stream holds a frame of this writer back to carry the end (TcpExchange.Ending.cs): it must go before
    // anything this writer sends or releases next.
    private bool _holdsFrame;

    // Sends the frame the stream holds, if any, ahead of what follows.
    private void ReleaseHeld()
    {
        if (_holdsFrame)
        {
            _holdsFrame = false;
            _stream.ReleaseHeld();
        }
    }

    // On a version-3 connection, the stream holds a response's last frame back to send it with the end: the last frame
    // of the final flush, and that of the first flush when it is a DATA frame ending a message (usually a unary answer),
    // until the handler does anything more.
    private bool TryHold(in OutgoingFrame frame, int credit, bool final)
    {
        if (!_endsInFrame || (!final && _flushed) || !_stream.TryHold(frame, credit, final))
        {
            return false;
        }

        _holdsFrame = true;
        return true;
    }

    // A flush that finds its messages continuing the open batch, with its credit enough for them, only grows it.
    private bool TryGrowOpenBatch()
    {
        if (_openBatch is not { } open || _ended.Count == 0)
        {
            return false;
        }

        var end = _openEnd;
        var cost = 0;
        for (var i = 0; i < _ended.Count; i++)
        {
            ref var chunk = ref _ended[i];
            if (!chunk.IsWhole || chunk.Length > _packLimit || chunk.Buffer != open.Buffer || chunk.Offset - Slot != end)
            {
                return false;
            }

            end = chunk.Offset + chunk.Length;
            cost += chunk.Length + Wire.FrameCharge;
        }

        if (cost > _openCredit)
        {
            _reserve.RanShort(!open.IsSealed, _maxBody);
            return false;
        }

        if (end - open.Start > _maxBody || !Grow(open, _ended.Count, end, cost))
        {
            return false;
        }

        var last = _ended.Last;
        _ended.Clear();
        if (last.ReturnsBuffer)
        {
            CloseBuffer(last.Buffer!);
        }

        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendEndedAsync(bool final, CancellationToken cancellationToken)
    {
        var index = 0;
        try
        {
            while (index < _ended.Count)
            {
                var chunk = _ended[index];
                var wanted = 0;
                var run = chunk.IsWhole && chunk.Length <= _packLimit ? MeasureRun(index, out wanted) : 0;
                if (run > 0)
                {
                    var grown = GrowOpenBatch(index, run);
                    if (grown > 0)
                    {
                        index += grown;
                        continue;
                    }
                }

                // A message on its own in a response's first flush or its last (a unary answer either way) is one DATA
                // frame, as in version 1: a MESSAGES frame of one is only longer, and a batch's credit reserve would be
                // work for nothing. From the second flush on, a lone message starts a batch, for the next flushes to join.
                if (run > 1 || (run == 1 && !final && _flushed))
                {
                    // A new batch. A stream that flushes as it goes takes more credit than these messages need, so that
                    // its next flushes join the batch while it waits for the writer loop; the last flush takes what it needs.
                    var reserve = _reserve.Take(wanted, final);
                    var taking = Credit.TakeAsync(_stream.SendWindow, _connection.SendWindow, chunk.Length + Wire.FrameCharge, reserve, cancellationToken);
                    var credit = taking.IsCompletedSuccessfully ? taking.Result : await taking.ConfigureAwait(false);
                    index = StartBatch(index, run, credit, final);
                    continue;
                }

                // A DATA frame follows: nothing may join a batch queued before it any more.
                _openBatch = null;
                var offset = chunk.Offset;
                var remaining = chunk.Length;
                do
                {
                    var size = Math.Min(remaining, _maxBody);
                    var minimum = Wire.FrameCharge + Math.Min(size, Wire.MinimumChunk);
                    var credit = await Credit.TakeAsync(_stream.SendWindow, _connection.SendWindow, minimum, Wire.FrameCharge + size, cancellationToken).ConfigureAwait(false);
                    var n = credit - Wire.FrameCharge;
                    var last = n == remaining;
                    var frame = new OutgoingFrame(FrameType.Data, last && chunk.EndsMessage ? Wire.EndMessage : (byte)0, _stream.Id)
                    {
                        Body = chunk.Buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(chunk.Buffer, offset, n),
                        Buffer = last && chunk.ReturnsBuffer ? chunk.Buffer : null,
                    };
                    if (chunk.Buffer is not null && chunk.Buffer == _buffer)
                    {
                        _bufferQueued = true;
                        _dataQueuedLast = true;
                    }

                    if (last && chunk.EndsMessage && index == _ended.Count - 1 && TryHold(frame, credit, final))
                    {
                        // Sent with the end, or ahead of whatever the handler does next.
                    }
                    else if (!_stream.SendData(frame))
                    {
                        // Not queued: the stream ended under us. The connection credit it took goes back, or every
                        // stream cancelled at this moment would shrink the connection's window for good. The buffer is
                        // dropped, not returned (see FrameConnection.Send).
                        _connection.SendWindow.Add(credit);
                        index++;
                        throw _stream.EndedError();
                    }

                    Volatile.Write(ref _responded, true);
                    offset += n;
                    remaining -= n;
                }
                while (remaining > 0);

                index++;
            }
        }
        catch
        {
            // Buffers of messages not sent go back through the writer loop, behind any frame already queued from them.
            for (; index < _ended.Count; index++)
            {
                if (_ended[index] is { ReturnsBuffer: true, Buffer: { } buffer })
                {
                    _connection.Send(new OutgoingFrame(FrameType.Data, 0, _stream.Id) { Buffer = buffer, ReleaseOnly = true });
                }
            }

            _ended.Clear();
            throw;
        }

        _ended.Clear();
        _flushed = true;
    }

    // How many ended messages from index can share one MESSAGES frame: whole, small, back to back in one buffer, and
    // together within the client's frame body limit. wanted is their credit.
    private int MeasureRun(int index, out int wanted)
    {
        var first = _ended[index];
        var bodyStart = first.Offset - Slot;
        var bodyEnd = bodyStart;
        var count = 0;
        wanted = 0;
        for (var i = index; i < _ended.Count; i++)
        {
            var chunk = _ended[i];
            if (!chunk.IsWhole || chunk.Length > _packLimit || chunk.Buffer != first.Buffer || chunk.Offset - Slot != bodyEnd
                || chunk.Offset + chunk.Length - bodyStart > _maxBody)
            {
                break;
            }

            bodyEnd = chunk.Offset + chunk.Length;
            wanted += chunk.Length + Wire.FrameCharge;
            count++;
            if (chunk.ReturnsBuffer)
            {
                break;
            }
        }

        return count;
    }

    // Adds as many of the run's messages as continue the open batch and its credit covers; returns how many.
    private int GrowOpenBatch(int index, int run)
    {
        if (_openBatch is not { } open || open.Buffer != _ended[index].Buffer || _openEnd != _ended[index].Offset - Slot)
        {
            return 0;
        }

        var end = _openEnd;
        var cost = 0;
        var count = 0;
        for (; count < run; count++)
        {
            var chunk = _ended[index + count];
            var next = cost + chunk.Length + Wire.FrameCharge;
            if (next > _openCredit)
            {
                _reserve.RanShort(!open.IsSealed, _maxBody);
                break;
            }

            if (chunk.Offset + chunk.Length - open.Start > _maxBody)
            {
                break;
            }

            cost = next;
            end = chunk.Offset + chunk.Length;
        }

        if (count == 0 || !Grow(open, count, end, cost))
        {
            return 0;
        }

        if (_ended[index + count - 1].ReturnsBuffer)
        {
            CloseBuffer(open.Buffer);
        }

        return count;
    }

    // Grows the open batch by count messages ending at end, paid from its credit, unless the writer loop took it first.
    private bool Grow(OutgoingBatch open, int count, int end, int cost)
    {
        if (_stream.IsResponseEnded)
        {
            return false;
        }

        if (!open.TryGrow(_openCount, _openEnd, _openCount + count, end))
        {
            // Taken by the writer loop, which gave back the credit it did not use.
            _openBatch = null;
            return false;
        }

        _openCount += count;
        _openEnd = end;
        _openCredit -= cost;
        Volatile.Write(ref _responded, true);
        return true;
    }

    // Queues the run's first messages, as many as credit covers (at least one), as a new batch; the credit they do not
    // use stays with the batch for later flushes. Returns the index of the first message not sent.
    private int StartBatch(int index, int run, int credit, bool final)
    {
        var buffer = _ended[index].Buffer!;
        var bodyStart = _ended[index].Offset - Slot;
        var bodyEnd = bodyStart;
        var used = 0;
        var count = 0;
        for (; count < run; count++)
        {
            var chunk = _ended[index + count];
            var cost = chunk.Length + Wire.FrameCharge;
            if (used + cost > credit)
            {
                break;
            }

            used += cost;
            bodyEnd = chunk.Offset + chunk.Length;
        }

        if (_stream.IsResponseEnded)
        {
            _connection.SendWindow.Add(credit);
            throw _stream.EndedError();
        }

        var batch = RentBatch();
        batch.Fill(buffer, bodyStart, bodyEnd, count, _stream.SendWindow, credit);

        // The body as queued is what Send counts against the connection; what the batch gains later counts once the
        // writer loop takes it.
        var frame = new OutgoingFrame(FrameType.Messages, 0, _stream.Id) { Batch = batch, Body = new ReadOnlySequence<byte>(buffer, bodyStart, bodyEnd - bodyStart) };
        var next = index + count;
        var closes = _ended[next - 1].ReturnsBuffer;
        if (final && next == _ended.Count && TryHold(closes ? frame with { Buffer = buffer } : frame, credit, final: true))
        {
            // The final flush's last frame goes with the end, carrying the buffer back if it is the buffer's last.
            if (closes)
            {
                _openBatch = null;
                closes = false;
            }
        }
        else if (!_stream.SendData(frame))
        {
            // As for a DATA frame that could not be queued: the connection's credit goes back, the buffer is dropped.
            batch.Seal();
            _connection.SendWindow.Add(credit);
            throw _stream.EndedError();
        }

        _openBatch = batch;
        _openCount = count;
        _openEnd = bodyEnd;
        _openCredit = credit - used;
        if (buffer == _buffer)
        {
            _bufferQueued = true;
            _dataQueuedLast = false;
        }

        Volatile.Write(ref _responded, true);
        if (closes)
        {
            CloseBuffer(buffer);
        }

        return next;
    }

    // The buffer's last message has been queued: it goes back behind the batch, and no batch may grow into it any more.
    private void CloseBuffer(byte[] buffer)
    {
        _openBatch = null;
        Release(buffer, queued: true);
    }

    // Whether every batch queued from the buffer has been copied out of it by the writer loop.
    private bool BatchesWritten(byte[] buffer)
    {
        foreach (var batch in _batches)
        {
            if (batch.Buffer == buffer && !batch.IsWritten)
            {
                return false;
            }
        }

        return true;
    }

    // A batch object the writer loop is done with, or a new one: a stream has as many as it has batches in the queue.
    // Written, not only sealed: a batch filled again must not be marked written for the body it held before.
    private OutgoingBatch RentBatch()
    {
        foreach (var batch in _batches)
        {
            if (batch.IsWritten)
            {
                return batch;
            }
        }

        var fresh = new OutgoingBatch();
        _batches.Add(fresh);
        return fresh;
    }
}
