using System.Buffers;
using System.IO.Pipelines;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// A stream's output. Bytes are written straight into the stream's pinned send chunks; <see cref="FlushAsync"/> hands
/// them to QUIC and waits while more than the send buffer is waiting for flow control or congestion, or while the
/// connection owes the peer its whole budget (request streams).
/// </summary>
internal sealed class QuicStreamWriter(QuicStream stream) : PipeWriter
{
    private byte[]? _tail;
    private int _tailUsed;
    private long _written;
    private byte[]? _scratch;
    private bool _completed;

    public override void Advance(int bytes)
    {
        if (_scratch is { } scratch)
        {
            _scratch = null;
            Append(scratch.AsSpan(0, bytes));
            ArrayPool<byte>.Shared.Return(scratch);
            return;
        }

        _tailUsed += bytes;
        _written += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        var room = Room(sizeHint);
        return room is null ? RentScratch(sizeHint) : room.AsMemory(_tailUsed);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        var room = Room(sizeHint);
        return room is null ? RentScratch(sizeHint) : room.AsSpan(_tailUsed);
    }

    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        var wait = stream.Commit(_written, fin: false);
        while (wait is not null)
        {
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);

            // Room on the stream may come while its connection is full, or the other way round: wait for both.
            wait = stream.Room();
        }

        return new FlushResult(isCanceled: false, isCompleted: false);
    }

    /// <summary>Hands what is written to QUIC without waiting for room: the writer's next flush waits, if it must.</summary>
    public void Commit() => _ = stream.Commit(_written, fin: false)?.Exception;

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (exception is null)
        {
            var wait = stream.Commit(_written, fin: true);
            _ = wait?.Exception;
        }
        else
        {
            stream.WriterDone();
            stream.Abort(QuicErrorCodes.Shutdown);
        }
    }

    private byte[]? Room(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_tail is not null && SendChunks.Size - _tailUsed >= needed)
        {
            return _tail;
        }

        if (_tail is not null && _tailUsed < SendChunks.Size && needed > SendChunks.Size - _tailUsed)
        {
            // The tail has some room but not enough for this write: write into scratch and spread it on Advance.
            return null;
        }

        if (needed > SendChunks.Size)
        {
            return null;
        }

        _tail = stream.AddChunk();
        _tailUsed = 0;
        return _tail;
    }

    private byte[] RentScratch(int sizeHint)
    {
        _scratch = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, 1));
        return _scratch;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_tail is null || _tailUsed == SendChunks.Size)
            {
                _tail = stream.AddChunk();
                _tailUsed = 0;
            }

            var n = Math.Min(data.Length, SendChunks.Size - _tailUsed);
            data[..n].CopyTo(_tail.AsSpan(_tailUsed));
            _tailUsed += n;
            _written += n;
            data = data[n..];
        }
    }
}
