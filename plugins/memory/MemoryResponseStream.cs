using System.Buffers;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Memory;

/// <summary>
/// The client's side of a response stream. <see cref="Current"/> is a view of the handler's rented buffer, not a copy;
/// the buffer goes back to the pool (and its bytes back to the request's budget, which lets a waiting handler go on)
/// when the client moves to the next message or disposes the stream.
/// </summary>
internal sealed class MemoryResponseStream : IResponseStream
{
    private readonly MemoryExchange _exchange;
    private readonly CancellationToken _requestToken;
    private readonly CancellationTokenRegistration _requestTokenRegistration;
    private ResponseMessage _current;
    private bool _ended;
    private Exception? _failure;
    private bool _disposed;

    /// <summary>Creates the stream of an accepted request.</summary>
    /// <param name="exchange">The request's shared state.</param>
    /// <param name="requestToken">The token given to SendAsync; it cancels the request for as long as it runs.</param>
    public MemoryResponseStream(MemoryExchange exchange, CancellationToken requestToken)
    {
        _exchange = exchange;
        _requestToken = requestToken;
        _requestTokenRegistration = requestToken.UnsafeRegister(
            static state => ((MemoryExchange)state!).Abort(ClientCancelled()),
            exchange);
    }

    /// <inheritdoc />
    public ReadOnlySequence<byte> Current => _current.AsSequence();

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ReleaseCurrent();
        if (_ended)
        {
            // Once over, the stream keeps saying how it ended.
            return _failure is null ? false : throw _failure;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            _exchange.Abort(ClientCancelled());
            throw Fail(new OperationCanceledException("The read was cancelled, and with it the request.", cancellationToken));
        }

        var messages = _exchange.Messages;
        while (true)
        {
            // A disorderly end wins over queued messages: the client learns at once that the request is over.
            ThrowIfFailed();
            if (messages.TryRead(out var message))
            {
                _current = message;
                return true;
            }

            bool more;
            try
            {
                // Abort from the canceller's own thread, not from this method's continuation: the handler's token
                // then fires at once even when the thread pool is busy.
                using var registration = cancellationToken.CanBeCanceled
                    ? cancellationToken.UnsafeRegister(static state => ((MemoryExchange)state!).Abort(ClientCancelled()), _exchange)
                    : default;
                more = await messages.WaitToReadAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Giving up on the read gives up on the request. The registration above has usually aborted it already,
                // but not when the channel ran this continuation inline during Cancel (the registration is then
                // disposed before its turn came), so abort here as well; a second Abort does nothing.
                _exchange.Abort(ClientCancelled());
                throw Fail(new OperationCanceledException("The read was cancelled, and with it the request.", cancellationToken));
            }

            if (!more)
            {
                // The queue is empty and complete: the orderly end (success or the handler's error), unless aborted.
                _ended = true;
                ThrowIfFailed();
                if (_exchange.CompletionError is { } error)
                {
                    throw Fail(error);
                }

                return false;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return default;
        }

        _disposed = true;

        // Disposing before the end cancels the request on the server. Abort does nothing if it already ended.
        if (!_ended && !_exchange.HasEnded)
        {
            _exchange.Abort(new PlexusException(PlexusErrorCode.Cancelled, "The client disposed the response stream before its end."));
        }

        _requestTokenRegistration.Dispose();
        ReleaseCurrent();
        _exchange.ClientDone();
        return default;
    }

    private static PlexusException ClientCancelled() =>
        new(PlexusErrorCode.Cancelled, "The client cancelled the request.");

    private void ThrowIfFailed()
    {
        // The caller's own token reads as the usual OperationCanceledException, not as a transport error.
        if (_requestToken.IsCancellationRequested)
        {
            throw Fail(new OperationCanceledException("The request was cancelled by the token given to SendAsync.", _requestToken));
        }

        if (_exchange.AbortError is { } error)
        {
            throw Fail(error);
        }
    }

    private Exception Fail(Exception error)
    {
        _ended = true;
        _failure = error;
        return error;
    }

    private void ReleaseCurrent()
    {
        if (_current.Buffer is not null)
        {
            _exchange.Release(_current);
        }

        _current = default;
    }
}
