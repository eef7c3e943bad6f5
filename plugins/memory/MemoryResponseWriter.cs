using System.Buffers;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Memory;

/// <summary>
/// The transport's side of a response stream. Each message is written straight into a rented array; ending the message
/// hands that array over whole (no copy), and flushing queues the ended messages for the client, waiting while the
/// client is behind. Not for concurrent use, like every <see cref="IBufferWriter{T}"/>.
/// </summary>
internal sealed class MemoryResponseWriter : IResponseChannel, IDisposable
{
    private const int MinimumBufferSize = 4096;

    private readonly MemoryExchange _exchange;
    private readonly ArrayPool<byte> _pool;
    private readonly long _maxMessageBytes;

    // Messages ended but not yet flushed. One queue per request, reused for every message.
    private readonly Queue<ResponseMessage> _ended = new();
    private byte[]? _buffer;
    private int _written;
    private bool _disposed;
    private bool _responded;

    /// <summary>Creates the writer of one request.</summary>
    /// <param name="exchange">The request's shared state.</param>
    /// <param name="maxMessageBytes">The largest message allowed.</param>
    public MemoryResponseWriter(MemoryExchange exchange, long maxMessageBytes)
    {
        _exchange = exchange;
        _pool = exchange.Pool;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > (_buffer?.Length ?? 0) - _written)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Advanced past the end of the buffer GetSpan/GetMemory returned.");
        }

        // The rented array may be larger than asked for; the limit is on the message, not the array.
        ThrowIfOverLimit((long)_written + count);
        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <inheritdoc />
    public void EndMessage()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_written == 0)
        {
            // An empty message needs no array; keep any rented one for the next message.
            _ended.Enqueue(default);
            return;
        }

        _ended.Enqueue(new ResponseMessage(_buffer, _written));
        _buffer = null;
        _written = 0;
    }

    /// <inheritdoc />
    public bool HasResponded => Volatile.Read(ref _responded);

    /// <inheritdoc />
    public async ValueTask CompleteAsync(PlexusException? error)
    {
        if (error is null && !_disposed)
        {
            try
            {
                // Messages the handler ended but did not flush still go out before the end.
                await FlushAsync(CancellationToken.None);
            }
            catch (PlexusException e)
            {
                error = e;
            }
        }

        // After an abort this does nothing: the client already has the abort's error.
        _exchange.Complete(error);
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _ended.Count == 0 ? default : FlushEndedAsync(cancellationToken);
    }

    /// <summary>Returns every buffer the writer still holds; called when the handler is done.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        while (_ended.TryDequeue(out var message))
        {
            message.ReturnTo(_pool);
        }

        if (_buffer is not null)
        {
            _pool.Return(_buffer);
            _buffer = null;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushEndedAsync(CancellationToken cancellationToken)
    {
        while (_ended.TryDequeue(out var message))
        {
            try
            {
                await _exchange.WriteAsync(message, cancellationToken);
                Volatile.Write(ref _responded, true);
            }
            catch
            {
                // Not queued, so still ours to return.
                message.ReturnTo(_pool);
                throw;
            }
        }
    }

    private void EnsureRoom(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var needed = Math.Max(sizeHint, 1);
        if (_buffer is not null && _buffer.Length - _written >= needed)
        {
            return;
        }

        // The limit is checked before anything is rented: an oversized message fails without the memory it would take.
        var required = (long)_written + needed;
        ThrowIfOverLimit(required);

        // Grow by doubling (up to the limit), so a large message written in small pieces is copied only a few times.
        var size = Math.Max(required, Math.Max(MinimumBufferSize, 2L * (_buffer?.Length ?? 0)));
        size = Math.Min(size, Math.Max(required, _maxMessageBytes));
        var bigger = _pool.Rent((int)size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _written).CopyTo(bigger);
            _pool.Return(_buffer);
        }

        _buffer = bigger;
    }

    private void ThrowIfOverLimit(long size)
    {
        if (size > _maxMessageBytes)
        {
            throw PlexusException.TooLarge("response message", size, _maxMessageBytes, MemoryTransportOptions.MaxPayloadBytesKey);
        }
    }
}
