using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The transport's side of a response stream on the server (the dispatcher ends it through
/// <see cref="CompleteAsync"/>). Messages are written into rented buffers, many per buffer, each behind a 4-byte
/// slot that <see cref="EndMessage"/> fills with its length, and a buffer outlives flushes: a handler that flushes
/// every small message keeps appending to the same array instead of renting one per message. Because every message
/// sits behind its length, a run of whole messages in a buffer is already the body of a MESSAGES frame
/// (<see cref="OutgoingBatch"/>). <see cref="FlushAsync"/> sends the ended messages once the stream and connection
/// windows have credit for them, so a slow client holds the handler here: packed into MESSAGES frames on a version-2
/// connection (growing the one still waiting in the queue, if any), as DATA frames chunked to the client's frame limit
/// otherwise and for larger messages. Frames point into the buffers (no copy); a full buffer goes back to the pool
/// behind the last frame that points into it (that frame carries it, or a release-only frame queued after it). On a
/// version-3 connection the stream may hold a frame back to carry the end (TcpExchange.Ending.cs): the last frame of
/// the final flush, and a lone message flushed before the handler's first await.
/// Not for concurrent use, like every <see cref="IBufferWriter{T}"/>.
/// </summary>
internal sealed partial class TcpResponseWriter : IResponseChannel
{
    // A stream's first buffer is small and each fresh one doubles up to room for a few hundred small messages, so an
    // idle token stream holds about a kilobyte while a burst soon writes into full-sized buffers. Larger messages get a
    // buffer of their own size.
    private const int FirstBufferSize = 1024;
    private const int MinimumBufferSize = 8192;

    // A message that outgrows this continues in a new buffer instead of a bigger copy: no array larger than this is
    // rented for a message written in pieces, so a 100 MiB message neither copies itself while it grows nor leaves
    // 64 and 128 MiB arrays in the shared pool after it is gone.
    private const int MaximumBufferSize = 1024 * 1024;

    // The length slot in front of every message.
    private const int Slot = Wire.MessagePrefixBytes;

    private readonly TcpExchange _stream;
    private readonly FrameConnection _connection;
    private readonly ArrayPool<byte> _pool;
    private readonly long _maxMessageBytes;
    private readonly ChunkList _ended = new();

    // The client's frame body limit, and the largest message that travels packed (none on a version-1 connection):
    // one costs at most the credit a sender waits for anyway (a whole frame or 4 KiB), and larger ones gain little
    // from sharing a frame.
    private readonly int _maxBody;
    private readonly int _packLimit;

    // Whether a response's normal end may travel in its last DATA or MESSAGES frame (version 3).
    private readonly bool _endsInFrame;

    // The message being written is _buffer[_start.._position), with its length slot just before _start; while there
    // is no buffer both are 0.
    private byte[]? _buffer;
    private int _nextBufferSize = FirstBufferSize;
    private int _start;
    private int _position;

    // Bytes of the message being written that sit in earlier buffers, already queued as pieces.
    private long _messageBefore;

    // Whether a queued frame points into _buffer, so that it may only go back to the pool behind that frame.
    private bool _bufferQueued;

    // Whether the last frame queued from _buffer is a DATA frame. The writer loop writes a connection's frames in the
    // order queued and marks each batch it has copied out, so a written batch vouches for every frame queued before it;
    // nothing vouches for a DATA frame queued last, and then the buffer is not written again from the front (TryRewind).
    private bool _dataQueuedLast;
    private bool _disposed;
    private bool _completed;
    private bool _responded;

    // Set when a message that already had pieces queued went over the limit: the stream cannot go on after it.
    private PlexusException? _broken;

    public TcpResponseWriter(TcpExchange stream, FrameConnection connection, long maxMessageBytes)
    {
        _stream = stream;
        _connection = connection;
        _pool = connection.Pool;
        _maxMessageBytes = maxMessageBytes;
        _maxBody = connection.Peer.MaxFrameBodyBytes;
        _packLimit = connection.PacksMessages ? Math.Min(Wire.MinimumChunk, _maxBody) - Slot : -1;
        _endsInFrame = connection.EndsInFrame;
    }

    /// <inheritdoc />
    public bool HasResponded => Volatile.Read(ref _responded);

    /// <summary>Whether <see cref="CompleteAsync"/> has ended the stream.</summary>
    public bool IsCompleted => _completed;

    /// <inheritdoc />
    public void Advance(int count)
    {
        ThrowIfUnusable();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > (_buffer?.Length ?? 0) - _position)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Advanced past the end of the buffer GetSpan/GetMemory returned.");
        }

        ThrowIfOverLimit(_messageBefore + _position - _start + count);
        _position += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsMemory(_position);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsSpan(_position);
    }

    /// <inheritdoc />
    public void EndMessage()
    {
        ThrowIfUnusable();
        if (_buffer is null)
        {
            // An empty message written without asking for memory still needs its length slot.
            EnsureRoom(0);
        }

        var buffer = _buffer!;
        var length = _position - _start;
        var continues = _messageBefore > 0;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(_start - Slot), length);
        _messageBefore = 0;
        if (buffer.Length - _position >= Slot)
        {
            _ended.Add(new ResponseChunk(buffer, _start, length, ReturnsBuffer: false, Continues: continues));
            _start = _position += Slot;
            return;
        }

        // No room for the next message's slot: this message is the buffer's last, and its last frame returns it.
        _ended.Add(new ResponseChunk(buffer, _start, length, ReturnsBuffer: true, Continues: continues));
        _buffer = null;
        _bufferQueued = false;
        _dataQueuedLast = false;
        _start = _position = 0;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        if (_ended.Count == 0)
        {
            return default;
        }

        ReleaseHeld();
        if (TryGrowOpenBatch())
        {
            return default;
        }

        return SendEndedAsync(final: false, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask CompleteAsync(PlexusException? error)
    {
        if (_completed)
        {
            return default;
        }

        _completed = true;
        if (error is null && (_ended.Count > 0 || _broken is not null))
        {
            return FlushThenEndAsync();
        }

        End(error);
        return default;
    }

    // Ends the writer: every buffer goes back to the pool, except the current one when a queued frame still points
    // into it; that one is returned, to travel behind the stream's last frame (END or ERROR).
    private byte[]? ReleaseBuffers()
    {
        if (_disposed)
        {
            return null;
        }

        _disposed = true;

        // Ended but never flushed. Earlier frames may still point into their buffers, so they go back behind them.
        for (var i = 0; i < _ended.Count; i++)
        {
            ref var chunk = ref _ended[i];
            if (chunk.ReturnsBuffer && chunk.Buffer is not null)
            {
                Release(chunk.Buffer, queued: true);
            }
        }

        _ended.Clear();
        var buffer = _buffer;
        _buffer = null;
        if (buffer is not null && !_bufferQueued)
        {
            _pool.Return(buffer);
            return null;
        }

        return buffer;
    }

    // Messages ended but not flushed still go out before the END; a stream that can take no more ends with why.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushThenEndAsync()
    {
        PlexusException? error = null;
        try
        {
            ThrowIfUnusable();
            ReleaseHeld();
            if (!TryGrowOpenBatch())
            {
                await SendEndedAsync(final: true, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            error = exception as PlexusException ?? PlexusException.Unavailable($"Stream {_stream.Id} could not send its last messages: {exception.Message}");
        }

        End(error);
    }

    // The last frame carries the writer's buffer back to the pool, behind the frames that point into it. A frame the
    // stream holds carries a normal end; before an error, or before the buffers of messages never sent go back, it is
    // sent as it is.
    private void End(PlexusException? error)
    {
        if (error is not null || _ended.Count > 0)
        {
            ReleaseHeld();
        }

        _stream.End(error, ReleaseBuffers());
    }

    // A buffer no ended message still needs: straight back to the pool, or behind the frames that point into it.
    private void Release(byte[] buffer, bool queued)
    {
        if (!queued || !_connection.Send(new OutgoingFrame(FrameType.Data, 0, _stream.Id) { Buffer = buffer, ReleaseOnly = true }))
        {
            if (!queued)
            {
                _pool.Return(buffer);
            }

            // Not queued while frames may still point into it: the collector takes it (see FrameConnection.Send).
        }
    }

    // A full buffer whose messages have all been flushed and copied out by the writer loop is written again from the
    // front, the message in progress moved there, instead of being traded for a bigger one: a stream that flushes
    // its tokens one by one keeps its first small buffer for its whole life and allocates nothing per token, where
    // trading let 10,000 streams that opened together allocate 20 MB at the same moment, every few dozen tokens.
    private bool TryRewind(int message, int needed)
    {
        if (_buffer is not { } buffer || _ended.Count != 0 || _dataQueuedLast || buffer.Length - Slot - message < needed || !BatchesWritten(buffer))
        {
            return false;
        }

        buffer.AsSpan(_start, message).CopyTo(buffer.AsSpan(Slot));
        _openBatch = null;
        _bufferQueued = false;
        _start = Slot;
        _position = Slot + message;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureRoom(int sizeHint)
    {
        ThrowIfUnusable();
        if (_buffer is null || sizeHint < 0 || _buffer.Length - _position < Math.Max(sizeHint, 1))
        {
            MakeRoom(sizeHint);
        }
    }

    private void MakeRoom(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);

        // A buffer may go back to the pool below, behind the frames queued from it: a held one goes first.
        ReleaseHeld();
        var needed = Math.Max(sizeHint, 1);
        if (_buffer is not null && _buffer.Length - _position >= needed)
        {
            return;
        }

        // The limit is checked before anything is rented: an oversized message fails without the memory it would take.
        var message = _position - _start;
        var required = (long)message + needed;
        ThrowIfOverLimit(_messageBefore + required);

        if (TryRewind(message, needed))
        {
            return;
        }

        if (message > 0 && required + Slot > MaximumBufferSize && needed + Slot <= MaximumBufferSize)
        {
            // The bytes so far become a piece of their own (the last run in this buffer) and the message goes on in a
            // fresh buffer: pieces are sent as DATA frames without the end-of-message flag.
            _ended.Add(new ResponseChunk(_buffer, _start, message, ReturnsBuffer: true, EndsMessage: false));
            _messageBefore += message;
            _buffer = _pool.Rent(MaximumBufferSize);
            _bufferQueued = false;
            _dataQueuedLast = false;
            _start = _position = Slot;
            return;
        }

        var size = Math.Max(required + Slot, Math.Max(_nextBufferSize, 2L * message));
        _nextBufferSize = Math.Min(2 * _nextBufferSize, MinimumBufferSize);
        size = Math.Min(size, Math.Max(required + Slot, Math.Min(_maxMessageBytes + Slot, MaximumBufferSize)));
        var bigger = _pool.Rent((int)size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(_start, message).CopyTo(bigger.AsSpan(Slot));
            var holdsEnded = _ended.Count > 0 && _ended.Last.Buffer == _buffer;
            if (holdsEnded)
            {
                // The last frame of that message carries the buffer back, after every earlier frame from it.
                _ended.Last.ReturnsBuffer = true;
            }
            else
            {
                Release(_buffer, _bufferQueued);
            }
        }

        _buffer = bigger;
        _bufferQueued = false;
        _dataQueuedLast = false;
        _start = Slot;
        _position = Slot + message;
    }

    // Checks are inlined into every call of the handler's hot path; the throwing is not.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfOverLimit(long size)
    {
        if (size > _maxMessageBytes)
        {
            ThrowTooLarge(size);
        }
    }

    private void ThrowTooLarge(long size)
    {
        var error = PlexusException.TooLarge("response message", size, _maxMessageBytes, TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxPayloadBytes)));
        if (_messageBefore > 0)
        {
            // Pieces of this message may be on the wire already; no later message may follow them.
            _broken = error;
        }

        throw error;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfUnusable()
    {
        if (_disposed || _broken is not null)
        {
            ThrowUnusable();
        }
    }

    private void ThrowUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        throw _broken!;
    }
}
