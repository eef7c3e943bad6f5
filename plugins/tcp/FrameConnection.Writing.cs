using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Tcp;

/// <summary>The writer loop: queued frames encoded onto the socket, flushed in batches, with the queued-byte counts kept.</summary>
internal sealed partial class FrameConnection
{
    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                if (_lowLatency)
                {
                    await WriteQueuedLowLatencyAsync(reader).ConfigureAwait(false);
                    continue;
                }

                if (reader.TryPeek(out var first) && first.Batch is not null)
                {
                    // A stream is flushing message after message into this frame: once around the pool's queue
                    // before sealing it, so that what it flushes meanwhile shares the frame.
                    await Task.Yield();
                }

                while (reader.TryRead(out var frame))
                {
                    Write(frame);
                    if (_unflushed >= FlushThreshold)
                    {
                        await FlushAsync().ConfigureAwait(false);
                    }
                }

                await FlushAsync().ConfigureAwait(false);
            }

            await StopWriteThroughAsync().ConfigureAwait(false);
            if (_graceful && !IsClosed)
            {
                await _output.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            // Socket errors are expected here; anything else is a bug, but it too must end only this connection.
            if (!IsClosed)
            {
                Abort(PlexusException.Unavailable($"Writing to {PeerName} failed: {exception.Message}"));
            }
        }
        finally
        {
            await StopWriteThroughAsync().ConfigureAwait(false);

            // Frames left behind are dropped; their observers hear so. Nothing will be written any more, so nothing
            // can still read their buffers: those go back to the pool.
            while (reader.TryRead(out var frame))
            {
                // A batch is sealed, so that its sender adds nothing more to it.
                frame.Batch?.Seal();
                Interlocked.Add(ref frame.IsControl ? ref _queuedControl : ref _queuedData, -frame.QueuedBytes);
                if (frame.Buffer is not null)
                {
                    _pool.Return(frame.Buffer);
                }

                frame.Observer?.OnFrameDone(false);
            }

            Interlocked.Add(ref _queuedControl, -_unflushedControl);
            Interlocked.Add(ref _queuedData, -_unflushedData);
            _unflushedControl = 0;
            _unflushedData = 0;

            // The pipe's own segments go back to their pool too; an abort never writes what they still hold.
            _output.Complete(IsClosed ? new IOException($"The connection to {PeerName} closed.") : null);
            _writerDone.TrySetResult();
        }
    }

    // Pooled: a flush that waits for the socket must not cost an allocation each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        await BeginFlush().ConfigureAwait(false);
        EndFlush();
    }

    private ValueTask<FlushResult> BeginFlush()
    {
        _unflushed = 0;

        // Before the bytes can reach the peer, so that its CREDIT for them never finds them uncounted.
        if (_unflushedCredit != 0)
        {
            Interlocked.Add(ref _unreturnedCredit, _unflushedCredit);
            _unflushedCredit = 0;
        }

        return _output.FlushAsync(_closing.Token);
    }

    // The socket has taken the bytes of the flush: they no longer count against the connection.
    private void EndFlush()
    {
        var control = Interlocked.Add(ref _queuedControl, -_unflushedControl);
        if (_unflushedData != 0)
        {
            Interlocked.Add(ref _queuedData, -_unflushedData);
        }

        _unflushedControl = 0;
        _unflushedData = 0;
        Volatile.Write(ref _lastFlushed, Environment.TickCount64);
        if (control <= _resumeQueuedControl && Volatile.Read(ref _room) is { } room)
        {
            room.TrySetResult();
        }
    }

    private void Write(in OutgoingFrame frame)
    {
        if (frame.Batch is { } batch)
        {
            WriteBatch(frame, batch);
            return;
        }

        if (frame.IsControl)
        {
            _unflushedControl += frame.QueuedBytes;
        }
        else
        {
            _unflushedData += frame.QueuedBytes;
            if (!frame.ReleaseOnly)
            {
                _unflushedCredit += frame.Body.Length + Wire.FrameCharge;
            }
        }

        if (!frame.ReleaseOnly)
        {
            if (frame.EncodedHeaderLength > 0)
            {
                _codec.Write(frame.Buffer.AsSpan(0, frame.EncodedHeaderLength), frame.Body, _output);
                _unflushed += frame.EncodedHeaderLength;
            }
            else
            {
                Span<byte> header = stackalloc byte[Wire.CommonHeaderLength + 8];
                header[0] = (byte)frame.Type;
                header[1] = frame.Tail is { } tail ? (byte)(frame.Flags | tail.Take((uint)frame.Value)) : frame.Flags;
                BinaryPrimitives.WriteUInt32LittleEndian(header[2..], frame.StreamId);
                var length = Wire.CommonHeaderLength;
                switch (frame.Type)
                {
                    case FrameType.Error or FrameType.Cancel or FrameType.GoAway:
                        header[length++] = frame.Code;
                        break;
                    case FrameType.Credit:
                        BinaryPrimitives.WriteUInt32LittleEndian(header[length..], (uint)frame.Value);
                        length += 4;
                        break;
                    case FrameType.Ping or FrameType.Pong:
                        BinaryPrimitives.WriteUInt64LittleEndian(header[length..], frame.Value);
                        length += 8;
                        break;
                }

                _codec.Write(header[..length], frame.Body, _output);
                _unflushed += length;
            }

            _unflushed += frame.Body.Length + Wire.FrameCharge;
        }

        if (frame.Buffer is not null)
        {
            _pool.Return(frame.Buffer);
        }

        frame.Observer?.OnFrameDone(true);
    }

    // A MESSAGES frame: what its batch holds once sealed; its sender counted the body and took credit for it, and
    // what that credit did not cover goes back to both windows. Its flags are END_STREAM or nothing.
    private void WriteBatch(in OutgoingFrame frame, OutgoingBatch batch)
    {
        var (body, count, reserved, streamWindow) = batch.Seal();
        var charge = PackedCharge(body.Length, (ulong)count);
        if (reserved > charge)
        {
            streamWindow?.Return(reserved - charge);
            SendWindow.Return(reserved - charge);
        }

        // What the batch gained after it was queued counts from now, until the socket takes it.
        var gained = body.Length - frame.Body.Length;
        if (gained != 0)
        {
            Interlocked.Add(ref _queuedData, gained);
        }

        _unflushedData += frame.QueuedBytes + gained;
        _unflushedCredit += charge;
        Span<byte> header = stackalloc byte[Wire.MessagesHeaderLength];
        header[0] = (byte)FrameType.Messages;

        // After the seal: the stream's end, if folded in by now, follows every message the frame holds.
        header[1] = frame.Tail is { } tail ? (byte)(frame.Flags | tail.Take((uint)frame.Value)) : frame.Flags;
        BinaryPrimitives.WriteUInt32LittleEndian(header[2..], frame.StreamId);
        BinaryPrimitives.WriteUInt32LittleEndian(header[Wire.CommonHeaderLength..], (uint)count);
        _codec.Write(header, body, _output);
        batch.MarkWritten();
        _unflushed += Wire.MessagesHeaderLength + body.Length + Wire.FrameCharge;
        if (frame.Buffer is not null)
        {
            // A response's last frame may carry its buffer back (TcpExchange.Ending.cs).
            _pool.Return(frame.Buffer);
        }
    }
}
