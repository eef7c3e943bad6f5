using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>
/// The transport's side of a response stream on the server (the dispatcher ends it through <see cref="CompleteAsync"/>).
/// Messages are written into rented buffers, many per buffer, each behind a 4-byte slot that <see cref="EndMessage"/>
/// fills with its length, and a buffer outlives flushes: a handler that flushes every small message keeps appending
/// to the same array. <see cref="FlushAsync"/> frames the ended messages into the QUIC stream, which copies them: on a
/// version-2 connection a run of small whole messages is one MESSAGES frame, whose body is the run as it lies in the
/// buffer; larger messages (and every message on version 1) are DATA frames chunked to the client's frame limit. It
/// waits while QUIC holds more than its send buffer for the client, or while the connection owes the client its whole
/// ConnectionSendBufferBytes: a slow client holds the handler here. While QUIC has not yet taken what the stream was
/// last given, small messages flushed meanwhile are held back and framed together once it has (see
/// QuicResponseWriter.Holding.cs). A message larger than 1 MiB continues in a fresh buffer instead of a bigger copy. Not
/// for concurrent use, like every <see cref="IBufferWriter{T}"/>.
/// </summary>
internal sealed partial class QuicResponseWriter : IResponseChannel
{
    // Room for a few hundred small messages; larger messages get a buffer of their own size.
    private const int MinimumBufferSize = 8192;

    // No array larger than this is rented for a message written in pieces.
    private const int MaximumBufferSize = 1024 * 1024;

    // Frames handed to QUIC between two flushes: enough to keep the stream busy, few enough to wait on back-pressure often.
    private const int FlushBytes = 64 * 1024;

    // The length slot in front of every message.
    private const int Slot = QuicWire.MessagePrefixBytes;

    private readonly QuicExchange _exchange;
    private readonly QuicStream _stream;
    private readonly PipeWriter _output;
    private readonly IFrameCodec _codec;
    private readonly int _maxBody;
    private readonly long _maxMessageBytes;
    private readonly ArrayPool<byte> _pool;
    private readonly List<Piece> _ended = [];

    // The largest message that travels packed (none on a version-1 connection), as on TCP.
    private readonly int _packLimit;

    // The message being written is _buffer[_start.._position), with its length slot just before _start; while there
    // is no buffer both are 0.
    private byte[]? _buffer;
    private int _start;
    private int _position;

    // Bytes of the message being written that sit in earlier pieces.
    private long _messageBefore;
    private bool _completed;
    private bool _released;
    private bool _responded;

    // Set when a message that already had pieces ended went over the limit: the stream cannot go on after it.
    private PlexusException? _broken;

    public QuicResponseWriter(QuicExchange exchange, QuicStream stream, IFrameCodec codec, int maxBody, long maxMessageBytes, ArrayPool<byte> pool, bool packs)
    {
        _exchange = exchange;
        _stream = stream;
        _output = stream.Output;
        _codec = codec;
        _maxBody = maxBody;
        _maxMessageBytes = maxMessageBytes;
        _pool = pool;
        _packLimit = packs ? Math.Min(QuicWire.PackedMessageRoom, maxBody) - Slot : -1;
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
        var whole = _messageBefore == 0;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(_start - Slot), length);
        _messageBefore = 0;
        if (buffer.Length - _position >= Slot)
        {
            _ended.Add(new Piece(buffer, _start, length, EndsMessage: true, ReturnsBuffer: false, Whole: whole));
            _start = _position += Slot;
            return;
        }

        // No room for the next message's slot: this message is the buffer's last, and the buffer goes back once it is sent.
        _ended.Add(new Piece(buffer, _start, length, EndsMessage: true, ReturnsBuffer: true, Whole: whole));
        _buffer = null;
        _start = _position = 0;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        return _ended.Count == 0 || TryHold() ? default : SendEndedAsync(final: false, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask CompleteAsync(PlexusException? error)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        try
        {
            if (_exchange.AbortError is not null)
            {
                // Reset, or its connection is gone: there is nobody to tell.
                return;
            }

            // What the handler flushed goes out whatever the end; what it ended and did not flush goes only with a
            // normal end. Held messages were flushed: they go first, in order, before the rest and the FIN.
            if (error is not null || _broken is not null)
            {
                DropEnded();
                error ??= _broken;
            }

            TakeHeld();
            if (_ended.Count > 0)
            {
                try
                {
                    await SendEndedAsync(final: true, CancellationToken.None).ConfigureAwait(false);
                }
                catch (PlexusException failed)
                {
                    error ??= failed;
                }
            }

            if (_exchange.AbortError is not null)
            {
                return;
            }

            if (error is not null)
            {
                QuicFrames.WriteError(_codec, _output, error);
            }

            // The FIN goes with whatever is still buffered; the last frame can no longer be aborted by the server.
            _exchange.ResponseEnded();
            await _output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client has gone; CompleteAsync never throws.
        }
        finally
        {
            Release();
        }
    }

    private void EnsureRoom(int sizeHint)
    {
        ThrowIfUnusable();
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var needed = Math.Max(sizeHint, 1);
        if (_buffer is not null && _buffer.Length - _position >= needed)
        {
            return;
        }

        // The limit is checked before anything is rented: an oversized message fails without the memory it would take.
        var message = _position - _start;
        var required = (long)message + needed;
        ThrowIfOverLimit(_messageBefore + required);
        if (message > 0 && required + Slot > MaximumBufferSize && needed + Slot <= MaximumBufferSize)
        {
            // The bytes so far become a piece of their own, sent without the end-of-message flag, and the message goes
            // on in a fresh buffer; the old one goes back once that piece is sent.
            _ended.Add(new Piece(_buffer, _start, message, EndsMessage: false, ReturnsBuffer: true, Whole: false));
            _messageBefore += message;
            _buffer = _pool.Rent(MaximumBufferSize);
            _start = _position = Slot;
            return;
        }

        var size = Math.Max(required + Slot, Math.Max(MinimumBufferSize, 2L * message));
        size = Math.Min(size, Math.Max(required + Slot, Math.Min(_maxMessageBytes + Slot, MaximumBufferSize)));
        var bigger = _pool.Rent((int)size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(_start, message).CopyTo(bigger.AsSpan(Slot));
            if (_ended.Count > 0 && _ended[^1].Buffer == _buffer)
            {
                // Ended messages still point into it: it goes back once the last of them is sent.
                _ended[^1] = _ended[^1] with { ReturnsBuffer = true };
            }
            else if (!HandHeldBuffer(_buffer))
            {
                _pool.Return(_buffer);
            }
        }

        _buffer = bigger;
        _start = Slot;
        _position = Slot + message;
    }

    private void Release()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        ReleaseHeld();
        foreach (var piece in _ended)
        {
            if (piece.ReturnsBuffer && piece.Buffer is not null)
            {
                _pool.Return(piece.Buffer);
            }
        }

        _ended.Clear();
        if (_buffer is not null)
        {
            _pool.Return(_buffer);
            _buffer = null;
        }
    }

    private void ThrowIfOverLimit(long size)
    {
        if (size > _maxMessageBytes)
        {
            var error = PlexusException.TooLarge("response message", size, _maxMessageBytes, QuicTransportOptions.Key(nameof(QuicTransportOptions.MaxPayloadBytes)));
            if (_messageBefore > 0)
            {
                // Pieces of this message may be on their way already; no later message may follow them.
                _broken = error;
            }

            throw error;
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_released, this);
        if (_broken is not null)
        {
            throw _broken;
        }

        if (_exchange.AbortError is { } aborted)
        {
            throw aborted;
        }
    }

    // Bytes of the response waiting to be framed: a message, or a piece of one larger than a buffer. Only a whole
    // message (not the last piece of a large one) has its length in the slot before it, and may be packed.
    private readonly record struct Piece(byte[]? Buffer, int Offset, int Length, bool EndsMessage, bool ReturnsBuffer, bool Whole);
}
