namespace Plexus.Transport.Memory;

/// <summary>
/// How many response bytes of one request sit between the handler and the client. The handler takes room before a
/// message is queued and the client gives it back once it has moved past the message, so a slow client holds the
/// handler in <see cref="IResponseWriter.FlushAsync"/> instead of letting memory grow.
/// </summary>
/// <remarks>
/// A message larger than the whole budget is let through when nothing else is buffered; otherwise one big message
/// could never be sent. Only the handler waits (a response writer is not for concurrent use), so there is at most
/// one waiter. Waiting allocates a <see cref="TaskCompletionSource{TResult}"/>; the path that does not wait allocates nothing.
/// </remarks>
internal sealed class ByteBudget
{
    private readonly long _limit;
    private readonly Lock _gate = new();
    private long _used;
    private long _wanted;
    private bool _closed;
    private TaskCompletionSource<bool>? _waiter;

    /// <summary>Creates a budget.</summary>
    /// <param name="limit">The most bytes buffered at once (a single larger message excepted).</param>
    public ByteBudget(long limit)
    {
        _limit = limit;
    }

    /// <summary>Takes room for <paramref name="bytes"/>, waiting while there is none.</summary>
    /// <param name="bytes">The message size.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> with the room taken; <see langword="false"/> when the budget was closed (the request ended).</returns>
    public ValueTask<bool> TakeAsync(long bytes, CancellationToken cancellationToken)
    {
        Task<bool> wait;
        lock (_gate)
        {
            if (_closed)
            {
                return new ValueTask<bool>(false);
            }

            if (Fits(bytes))
            {
                _used += bytes;
                return new ValueTask<bool>(true);
            }

            if (_waiter is not null)
            {
                throw new InvalidOperationException("FlushAsync is already waiting; a response writer is not for concurrent use.");
            }

            _waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _wanted = bytes;
            wait = _waiter.Task;
        }

        return WaitAsync(wait, bytes, cancellationToken);
    }

    /// <summary>Gives back the room of a message the client has moved past, and wakes the handler if it now fits.</summary>
    /// <param name="bytes">The message size.</param>
    public void Release(long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        TaskCompletionSource<bool>? wake = null;
        lock (_gate)
        {
            _used -= bytes;
            if (_waiter is not null && Fits(_wanted))
            {
                // Take the room on the waiter's behalf, so nothing can slip in between the wake-up and the retry.
                _used += _wanted;
                wake = _waiter;
                _waiter = null;
            }
        }

        wake?.TrySetResult(true);
    }

    /// <summary>Ends the budget: a waiting handler wakes with <see langword="false"/>, and so does every later take.</summary>
    public void Close()
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            _closed = true;
            wake = _waiter;
            _waiter = null;
        }

        wake?.TrySetResult(false);
    }

    private bool Fits(long bytes) => _used == 0 || _used + bytes <= _limit;

    private async ValueTask<bool> WaitAsync(Task<bool> wait, long bytes, CancellationToken cancellationToken)
    {
        try
        {
            return await wait.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_waiter?.Task, wait))
                {
                    _waiter = null;
                }
                else if (wait.IsCompletedSuccessfully && wait.Result)
                {
                    // The room was granted just as the wait was cancelled: give it back.
                    _used -= bytes;
                }
            }

            throw;
        }
    }
}
