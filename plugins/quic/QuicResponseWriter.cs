using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>
/// The transport's side of a response stream on the server (the dispatcher ends it through <see cref="CompleteAsync"/>).
/// Messages are written into rented buffers, many per buffer, and a buffer outlives flushes: a handler that flushes
/// every small message keeps appending to the same array. <see cref="FlushAsync"/> frames the ended messages as DATA
/// (chunked to the client's frame limit) into the QUIC stream, which copies them, and waits while QUIC holds more than
/// its send buffer for the client, or while the connection owes the client its whole ConnectionSendBufferBytes: a slow
/// client holds the handler here. A message larger than 1 MiB continues in a fresh buffer instead of a bigger copy. Not for concurrent use, like every <see cref="IBufferWriter{T}"/>.
/// </summary>
internal sealed class QuicResponseWriter : IResponseChannel
{
    // Room for a few hundred small messages; larger messages get a buffer of their own size.
    private const int MinimumBufferSize = 8192;

    // No array larger than this is rented for a message written in pieces.
    private const int MaximumBufferSize = 1024 * 1024;

    // Frames handed to QUIC between two flushes: enough to keep the stream busy, few enough to wait on back-pressure often.
    private const int FlushBytes = 64 * 1024;

    private readonly QuicExchange _exchange;
    private readonly PipeWriter _output;
    private readonly IFrameCodec _codec;
    private readonly int _maxBody;
    private readonly long _maxMessageBytes;
    private readonly ArrayPool<byte> _pool;
    private readonly List<Piece> _ended = [];
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

    public QuicResponseWriter(QuicExchange exchange, PipeWriter output, IFrameCodec codec, int maxBody, long maxMessageBytes, ArrayPool<byte> pool)
    {
        _exchange = exchange;
        _output = output;
        _codec = codec;
        _maxBody = maxBody;
        _maxMessageBytes = maxMessageBytes;
        _pool = pool;
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
        _ended.Add(new Piece(_buffer, _start, _position - _start, EndsMessage: true, ReturnsBuffer: false));
        _start = _position;
        _messageBefore = 0;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        return _ended.Count == 0 ? default : SendEndedAsync(final: false, cancellationToken);
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

            if (error is null && (_ended.Count > 0 || _broken is not null))
            {
                try
                {
                    // Framed but not flushed: the FIN below sends them, in the same packets.
                    ThrowIfUnusable();
                    await SendEndedAsync(final: true, CancellationToken.None).ConfigureAwait(false);
                }
                catch (PlexusException failed)
                {
                    error = failed;
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendEndedAsync(bool final, CancellationToken cancellationToken)
    {
        var index = 0;
        try
        {
            var unflushed = 0;
            for (; index < _ended.Count; index++)
            {
                var piece = _ended[index];
                var offset = piece.Offset;
                var remaining = piece.Length;
                do
                {
                    var n = Math.Min(remaining, _maxBody);
                    var last = n == remaining;
                    var body = piece.Buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(piece.Buffer, offset, n);
                    QuicFrames.WriteData(_codec, _output, last && piece.EndsMessage ? QuicWire.EndMessage : (byte)0, body);
                    Volatile.Write(ref _responded, true);
                    offset += n;
                    remaining -= n;
                    unflushed += n + 32;
                    if (unflushed >= FlushBytes)
                    {
                        unflushed = 0;
                        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                while (remaining > 0);

                // The stream copied the bytes: a buffer the message has left goes straight back.
                if (piece.ReturnsBuffer && piece.Buffer is not null)
                {
                    _pool.Return(piece.Buffer);
                }
            }

            if (!final)
            {
                await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // The piece that failed and those after it were not sent; the stream holds no reference to their buffers.
            for (; index < _ended.Count; index++)
            {
                if (_ended[index] is { ReturnsBuffer: true, Buffer: { } buffer })
                {
                    _pool.Return(buffer);
                }
            }

            _ended.Clear();
            throw;
        }

        _ended.Clear();
        if (_start == _position)
        {
            // Everything written so far is on its way: the buffer starts over.
            _start = _position = 0;
        }
    }

    private async ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        if (_exchange.AbortError is { } aborted)
        {
            throw aborted;
        }

        try
        {
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (QuicStreamAbortedException)
        {
            // STOP_SENDING: the client gave up on the response.
            throw _exchange.ClientGone();
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            throw _exchange.AbortError ?? _exchange.ClientGone();
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
        if (message > 0 && required > MaximumBufferSize && needed <= MaximumBufferSize)
        {
            // The bytes so far become a piece of their own, sent without the end-of-message flag, and the message goes
            // on in a fresh buffer; the old one goes back once that piece is sent.
            _ended.Add(new Piece(_buffer, _start, message, EndsMessage: false, ReturnsBuffer: true));
            _messageBefore += message;
            _buffer = _pool.Rent(MaximumBufferSize);
            _start = _position = 0;
            return;
        }

        var size = Math.Max(required, Math.Max(MinimumBufferSize, 2L * message));
        size = Math.Min(size, Math.Max(required, Math.Min(_maxMessageBytes, MaximumBufferSize)));
        var bigger = _pool.Rent((int)size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(_start, message).CopyTo(bigger);
            if (_ended.Count > 0 && _ended[^1].Buffer == _buffer)
            {
                // Ended messages still point into it: it goes back once the last of them is sent.
                _ended[^1] = _ended[^1] with { ReturnsBuffer = true };
            }
            else
            {
                _pool.Return(_buffer);
            }
        }

        _buffer = bigger;
        _start = 0;
        _position = message;
    }

    private void Release()
    {
        if (_released)
        {
            return;
        }

        _released = true;
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

    // Bytes of the response waiting to be framed: a whole message, or a piece of one larger than a buffer.
    private readonly record struct Piece(byte[]? Buffer, int Offset, int Length, bool EndsMessage, bool ReturnsBuffer);
}
