using System.Buffers;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The handler's side of a response stream on the server. Messages are written into rented buffers, several per
/// buffer; <see cref="FlushAsync"/> turns the ended messages into DATA frames (chunked to the client's frame limit),
/// each sent only once the stream and connection windows have credit for it, so a slow client holds the handler here.
/// Frames point into the buffers (no copy); the last frame from a buffer returns it to the pool once written.
/// Not for concurrent use, like every <see cref="IBufferWriter{T}"/>.
/// </summary>
internal sealed class TcpResponseWriter : IResponseWriter, IDisposable
{
    private const int MinimumBufferSize = 4096;

    private readonly ServerStream _stream;
    private readonly FrameConnection _connection;
    private readonly ArrayPool<byte> _pool;
    private readonly long _maxMessageBytes;
    private readonly List<ResponseChunk> _ended = [];
    private byte[]? _buffer;
    private int _start;
    private int _position;
    private bool _disposed;

    public TcpResponseWriter(ServerStream stream, FrameConnection connection, long maxMessageBytes)
    {
        _stream = stream;
        _connection = connection;
        _pool = connection.Pool;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > (_buffer?.Length ?? 0) - _position)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Advanced past the end of the buffer GetSpan/GetMemory returned.");
        }

        ThrowIfOverLimit((long)_position - _start + count);
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        _ended.Add(new ResponseChunk(_buffer, _start, _position - _start, ReturnsBuffer: false));
        _start = _position;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended.Count == 0)
        {
            return default;
        }

        // The current buffer leaves with these messages; the next message starts in a fresh one.
        RetireBuffer();
        return SendEndedAsync(cancellationToken);
    }

    /// <summary>Returns every buffer that no queued frame refers to; called when the handler is done.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Ended but never flushed: no frame points into these.
        foreach (var chunk in _ended)
        {
            if (chunk.ReturnsBuffer && chunk.Buffer is not null)
            {
                _pool.Return(chunk.Buffer);
            }
        }

        _ended.Clear();
        if (_buffer is not null)
        {
            _pool.Return(_buffer);
            _buffer = null;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendEndedAsync(CancellationToken cancellationToken)
    {
        var maxBody = _connection.Peer.MaxFrameBodyBytes;
        var index = 0;
        try
        {
            for (; index < _ended.Count; index++)
            {
                var chunk = _ended[index];
                var offset = chunk.Offset;
                var remaining = chunk.Length;
                do
                {
                    var wanted = Math.Min(remaining, maxBody);
                    var minimum = Wire.FrameCharge + Math.Min(wanted, Wire.MinimumChunk);
                    var credit = await Credit.TakeAsync(_stream.SendWindow, _connection.SendWindow, minimum, Wire.FrameCharge + wanted, cancellationToken).ConfigureAwait(false);
                    var n = credit - Wire.FrameCharge;
                    var last = n == remaining;
                    var frame = new OutgoingFrame(FrameType.Data, last ? Wire.EndMessage : (byte)0, _stream.Id)
                    {
                        Body = chunk.Buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(chunk.Buffer, offset, n),
                        Buffer = last && chunk.ReturnsBuffer ? chunk.Buffer : null,
                    };
                    if (!_stream.SendData(frame))
                    {
                        // Not queued: the stream ended under us. The buffer is dropped, not returned (see FrameConnection.Send).
                        index++;
                        throw _stream.EndedError();
                    }

                    offset += n;
                    remaining -= n;
                }
                while (remaining > 0);
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

    private void RetireBuffer()
    {
        if (_buffer is null)
        {
            return;
        }

        var pending = _position - _start;
        var last = _ended.Count - 1;
        if (_ended[last].Buffer != _buffer)
        {
            // No ended message lives in this buffer; it only holds the message being written.
            return;
        }

        _ended[last] = _ended[last] with { ReturnsBuffer = true };
        if (pending == 0)
        {
            _buffer = null;
            _start = _position = 0;
            return;
        }

        // A message is half written: it moves to a fresh buffer.
        var fresh = _pool.Rent(Math.Max(MinimumBufferSize, pending));
        _buffer.AsSpan(_start, pending).CopyTo(fresh);
        _buffer = fresh;
        _start = 0;
        _position = pending;
    }

    private void EnsureRoom(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var needed = Math.Max(sizeHint, 1);
        if (_buffer is not null && _buffer.Length - _position >= needed)
        {
            return;
        }

        // The limit is checked before anything is rented: an oversized message fails without the memory it would take.
        var message = _position - _start;
        var required = (long)message + needed;
        ThrowIfOverLimit(required);

        var size = Math.Max(required, Math.Max(MinimumBufferSize, 2L * message));
        size = Math.Min(size, Math.Max(required, _maxMessageBytes));
        var bigger = _pool.Rent((int)size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(_start, message).CopyTo(bigger);
            var holdsEnded = _ended.Count > 0 && _ended[^1].Buffer == _buffer;
            if (holdsEnded)
            {
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

    private void ThrowIfOverLimit(long size)
    {
        if (size > _maxMessageBytes)
        {
            throw PlexusException.TooLarge("response message", size, _maxMessageBytes, TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxPayloadBytes)));
        }
    }
}
