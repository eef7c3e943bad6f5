using System.Buffers;
using System.Runtime.CompilerServices;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The transport's side of a response stream. Each message is written into a rented array; flushing hands the ended
/// messages to the exchange, small ones into its packed frame without waiting, others as frames of their own (chunked
/// when larger than a NATS message), each within the requester's credit, then reuses or returns the arrays;
/// completing sends the end or the error frame. Not for concurrent use, like every <see cref="IBufferWriter{T}"/>.
/// </summary>
internal sealed class NatsResponseWriter : IResponseChannel, IDisposable
{
    private const int MinimumBufferSize = 4096;
    private const int RecycledBufferSize = 16 * 1024;

    private readonly NatsExchange _exchange;
    private readonly ArrayPool<byte> _pool;
    private readonly long _maxMessageBytes;
    private readonly Queue<ReceivedMessage> _ended = new();
    private byte[]? _buffer;
    private int _written;
    private bool _disposed;
    private bool _completed;

    /// <summary>Creates the writer of one request.</summary>
    /// <param name="exchange">The request.</param>
    /// <param name="pool">Where message buffers come from.</param>
    /// <param name="maxMessageBytes">The largest message allowed.</param>
    public NatsResponseWriter(NatsExchange exchange, ArrayPool<byte> pool, long maxMessageBytes)
    {
        _exchange = exchange;
        _pool = pool;
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
            _ended.Enqueue(default);
            return;
        }

        _ended.Enqueue(new ReceivedMessage(_buffer, _written, Credited: false));
        _buffer = null;
        _written = 0;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended.Count == 1 && _ended.Peek() is var message && _exchange.TryDefer(message.Buffer, message.Length, _pool))
        {
            // The exchange sends it: with the end of the stream, or when the handler first awaits.
            _ended.Dequeue();
            return default;
        }

        // Small messages join the exchange's packed frame without waiting; the rest go through the frame path.
        while (_ended.TryPeek(out var next))
        {
            if (!_exchange.TryPack(next.Buffer.AsSpan(0, next.Length), out var sent))
            {
                return FlushEndedAsync(default, cancellationToken);
            }

            _ended.Dequeue();
            Recycle(next);
            if (!sent.IsCompletedSuccessfully)
            {
                return FlushEndedAsync(sent, cancellationToken);
            }

            sent.GetAwaiter().GetResult();
        }

        return default;
    }

    /// <inheritdoc />
    public bool HasResponded => _exchange.HasResponded;

    /// <inheritdoc />
    public async ValueTask CompleteAsync(PlexusException? error)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (error is null && !_disposed)
        {
            try
            {
                // Messages the handler ended but did not flush still go out before the end.
                await FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // Usually the request was aborted, and then the error below is not sent: the requester has the abort's.
                error = exception as PlexusException ?? new PlexusException(PlexusErrorCode.Unavailable, $"The response could not be sent: {exception.Message}");
            }
        }

        _exchange.Finish(error);
    }

    /// <summary>Returns every buffer the writer still holds; called once the dispatch completed.</summary>
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

    // Waits for a full packed frame's publish, if any, then sends the rest: packed when small, else as frames.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushEndedAsync(ValueTask published, CancellationToken cancellationToken)
    {
        await SentAsync(published).ConfigureAwait(false);
        while (_ended.TryPeek(out var message))
        {
            if (_exchange.TryPack(message.Buffer.AsSpan(0, message.Length), out var sent))
            {
                _ended.Dequeue();
                Recycle(message);
                await SentAsync(sent).ConfigureAwait(false);
                continue;
            }

            var bytes = message.Buffer is null ? ReadOnlyMemory<byte>.Empty : message.Buffer.AsMemory(0, message.Length);
            await _exchange.SendAsync(bytes, cancellationToken).ConfigureAwait(false);

            // Appended to the connection (a copy): the array can go back.
            _ended.Dequeue();
            Recycle(message);
        }
    }

    private static async ValueTask SentAsync(ValueTask sent)
    {
        try
        {
            await sent.ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The response could not be sent: {exception.Message}", exception);
        }
    }

    // A sent message's array was copied to the connection: a small one becomes the next message's buffer, saving a
    // rent and a return per message; the rest go back.
    private void Recycle(ReceivedMessage message)
    {
        if (_buffer is null && message.Buffer is { Length: <= RecycledBufferSize } array)
        {
            _buffer = array;
            _written = 0;
            return;
        }

        message.ReturnTo(_pool);
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

        // The limit is checked before anything is rented.
        var required = (long)_written + needed;
        ThrowIfOverLimit(required);
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
            throw PlexusException.TooLarge("response message", size, _maxMessageBytes, NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes)));
        }
    }
}
