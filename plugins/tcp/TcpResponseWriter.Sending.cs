using System.Buffers;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Tcp;

/// <summary>Sending the ended messages: runs of small whole messages as MESSAGES frames, the rest as DATA frames, each under credit.</summary>
internal sealed partial class TcpResponseWriter
{
    // Batches of this stream: the one still waiting in the connection's queue (it may grow), and sealed ones to reuse.
    private readonly List<OutgoingBatch> _batches = [];
    private OutgoingBatch? _openBatch;
    private int _openCount;
    private int _openEnd;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendEndedAsync(CancellationToken cancellationToken)
    {
        var maxBody = _connection.Peer.MaxFrameBodyBytes;

        // Messages up to this size travel packed on a version-2 connection: one costs at most the credit a sender
        // waits for anyway (a whole frame or 4 KiB), and larger ones gain little from sharing a frame.
        var packLimit = _connection.PacksMessages ? Math.Min(Wire.MinimumChunk, maxBody) - Slot : -1;
        var index = 0;
        try
        {
            while (index < _ended.Count)
            {
                var chunk = _ended[index];
                if (chunk.IsWhole && chunk.Length <= packLimit)
                {
                    var run = MeasureRun(index, packLimit, maxBody, out var wanted);
                    var taking = Credit.TakeAsync(_stream.SendWindow, _connection.SendWindow, chunk.Length + Wire.FrameCharge, wanted, cancellationToken);
                    var credit = taking.IsCompletedSuccessfully ? taking.Result : await taking.ConfigureAwait(false);
                    index = SendPacked(index, run, credit, maxBody);
                    continue;
                }

                // A DATA frame follows: nothing may join a batch queued before it any more.
                _openBatch = null;
                var offset = chunk.Offset;
                var remaining = chunk.Length;
                do
                {
                    var wanted = Math.Min(remaining, maxBody);
                    var minimum = Wire.FrameCharge + Math.Min(wanted, Wire.MinimumChunk);
                    var credit = await Credit.TakeAsync(_stream.SendWindow, _connection.SendWindow, minimum, Wire.FrameCharge + wanted, cancellationToken).ConfigureAwait(false);
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
                    }

                    if (!_stream.SendData(frame))
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
    }

    // How many ended messages from index can share one MESSAGES frame: whole, small, back to back in one buffer, and
    // together within the client's frame body limit. wanted is their credit.
    private int MeasureRun(int index, int packLimit, int maxBody, out int wanted)
    {
        var first = _ended[index];
        var bodyStart = first.Offset - Slot;
        var bodyEnd = bodyStart;
        var count = 0;
        wanted = 0;
        for (var i = index; i < _ended.Count; i++)
        {
            var chunk = _ended[i];
            if (!chunk.IsWhole || chunk.Length > packLimit || chunk.Buffer != first.Buffer || chunk.Offset - Slot != bodyEnd
                || chunk.Offset + chunk.Length - bodyStart > maxBody)
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

    // Queues as many of the run's messages as credit covers, in the open batch when they continue it, else in a new
    // one; credit left over (less than the next message costs) goes back. Returns the index of the first message not sent.
    private int SendPacked(int index, int run, int credit, int maxBody)
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

        if (used < credit)
        {
            _stream.SendWindow.Add(credit - used);
            _connection.SendWindow.Add(credit - used);
        }

        var bytes = bodyEnd - bodyStart;
        if (_stream.IsResponseEnded)
        {
            _connection.SendWindow.Add(used);
            throw _stream.EndedError();
        }

        if (!TryGrowOpenBatch(buffer, bodyStart, bodyEnd, count, maxBody))
        {
            var batch = RentBatch();
            batch.Fill(buffer, bodyStart, bodyEnd, count);
            _connection.CountQueuedData(bytes);
            if (!_stream.SendData(new OutgoingFrame(FrameType.Messages, 0, _stream.Id) { Batch = batch }))
            {
                // As for a DATA frame that could not be queued: the connection's credit goes back, the buffer is dropped.
                _connection.CountQueuedData(-bytes);
                batch.Seal();
                _connection.SendWindow.Add(used);
                throw _stream.EndedError();
            }

            _openBatch = batch;
            _openCount = count;
            _openEnd = bodyEnd;
        }

        if (buffer == _buffer)
        {
            _bufferQueued = true;
        }

        Volatile.Write(ref _responded, true);
        var next = index + count;
        if (_ended[next - 1].ReturnsBuffer)
        {
            // The buffer's last message: it goes back behind the batch, and no batch may grow into it any more.
            _openBatch = null;
            Release(buffer, queued: true);
        }

        return next;
    }

    // Adds messages to the batch still waiting in the queue when they continue it in its buffer and fit its frame.
    private bool TryGrowOpenBatch(byte[] buffer, int bodyStart, int bodyEnd, int count, int maxBody)
    {
        if (_openBatch is not { } open || open.Buffer != buffer || _openEnd != bodyStart || bodyEnd - open.Start > maxBody)
        {
            return false;
        }

        if (open.IsSealed)
        {
            _openBatch = null;
            return false;
        }

        // Counted before it can be written, as Send counts a frame before queueing it.
        var bytes = bodyEnd - bodyStart;
        _connection.CountQueuedData(bytes);
        if (!open.TryGrow(_openCount, _openEnd, _openCount + count, bodyEnd))
        {
            // The writer loop took it first.
            _connection.CountQueuedData(-bytes);
            _openBatch = null;
            return false;
        }

        _openCount += count;
        _openEnd = bodyEnd;
        return true;
    }

    // A batch object the writer loop is done with, or a new one: a stream has as many as it has batches in the queue.
    private OutgoingBatch RentBatch()
    {
        foreach (var batch in _batches)
        {
            if (batch.IsSealed)
            {
                return batch;
            }
        }

        var fresh = new OutgoingBatch();
        _batches.Add(fresh);
        return fresh;
    }
}
