namespace Plexus.Transport.Memory;

/// <summary>
/// How many bytes of response messages all requests of one client hold between their handlers and the caller: the
/// memory transport's connection window. Handlers take room before a message is queued and the caller gives it back as
/// it moves past the message (or disposes the stream), so a caller that reads none of many streams holds about this
/// much, not a per-request bound times the number of requests.
/// </summary>
/// <remarks>
/// Waiting handlers are served in order, so one request cannot starve the others. A request that holds nothing is let
/// through at once whatever the others hold: a caller that reads its streams one after another must never find the
/// stream it reads waiting behind streams it has not reached. So the bound is the budget plus one message per request
/// that held none. The path that does not wait allocates nothing.
/// </remarks>
internal sealed class ClientBudget
{
    private readonly long _limit;
    private readonly Lock _gate = new();
    private readonly List<Waiter> _waiters = [];
    private long _used;

    /// <summary>Creates a budget.</summary>
    /// <param name="limit">The most bytes held at once, beyond the first message of each request.</param>
    public ClientBudget(long limit)
    {
        _limit = limit;
    }

    /// <summary>The bytes held now.</summary>
    public long Used
    {
        get
        {
            lock (_gate)
            {
                return _used;
            }
        }
    }

    /// <summary>Takes room for <paramref name="bytes"/> on behalf of <paramref name="share"/>, waiting while there is none.</summary>
    /// <param name="share">What the request holds in this budget.</param>
    /// <param name="bytes">The message's size in memory.</param>
    /// <param name="handlerToken">The token the handler passed to FlushAsync.</param>
    /// <param name="requestAborted">The request's own abort: its end wakes a waiting handler too.</param>
    /// <returns>A task that completes with the room taken.</returns>
    /// <exception cref="OperationCanceledException">One of the tokens fired while waiting; nothing was taken.</exception>
    public ValueTask TakeAsync(Share share, long bytes, CancellationToken handlerToken, CancellationToken requestAborted)
    {
        if (bytes == 0)
        {
            return default;
        }

        Waiter waiter;
        lock (_gate)
        {
            if (share.Held == 0 || (!HasLiveWaitersLocked() && Fits(bytes)))
            {
                _used += bytes;
                share.Held += bytes;
                return default;
            }

            waiter = new Waiter(share, bytes);
            _waiters.Add(waiter);
        }

        return WaitAsync(waiter, handlerToken, requestAborted);
    }

    /// <summary>Gives back room and wakes the waiters that may now go.</summary>
    /// <param name="share">What the request holds in this budget.</param>
    /// <param name="bytes">The message's size in memory, as taken.</param>
    public void Release(Share share, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        lock (_gate)
        {
            _used -= bytes;
            share.Held -= bytes;
        }

        Pump();
    }

    private bool Fits(long bytes) => _used == 0 || _used + bytes <= _limit;

    private bool HasLiveWaitersLocked()
    {
        foreach (var waiter in _waiters)
        {
            if (!waiter.Completion.Task.IsCompleted)
            {
                return true;
            }
        }

        return false;
    }

    private void Pump()
    {
        List<Waiter>? wake = null;
        lock (_gate)
        {
            // In order while they fit; past the first that does not, only requests that hold nothing go ahead.
            var blocked = false;
            var i = 0;
            while (i < _waiters.Count)
            {
                var waiter = _waiters[i];
                if (waiter.Completion.Task.IsCompleted)
                {
                    _waiters.RemoveAt(i);
                    continue;
                }

                if (waiter.Share.Held == 0 || (!blocked && Fits(waiter.Bytes)))
                {
                    // Taken on the waiter's behalf, so nothing slips in between the wake-up and its return.
                    _used += waiter.Bytes;
                    waiter.Share.Held += waiter.Bytes;
                    _waiters.RemoveAt(i);
                    (wake ??= []).Add(waiter);
                    continue;
                }

                blocked = true;
                i++;
            }
        }

        if (wake is null)
        {
            return;
        }

        foreach (var waiter in wake)
        {
            if (!waiter.Completion.TrySetResult())
            {
                // Cancelled between the check and now: the room goes back.
                Release(waiter.Share, waiter.Bytes);
            }
        }
    }

    private async ValueTask WaitAsync(Waiter waiter, CancellationToken handlerToken, CancellationToken requestAborted)
    {
        try
        {
            using (handlerToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Completion.TrySetCanceled(token), waiter))
            using (requestAborted.UnsafeRegister(static (state, token) => ((Waiter)state!).Completion.TrySetCanceled(token), waiter))
            {
                await waiter.Completion.Task.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // A cancelled waiter must not hold up those behind it.
            Pump();
            throw;
        }
    }

    /// <summary>What one request holds in the budget; changed only under the budget's lock.</summary>
    internal sealed class Share
    {
        public long Held { get; set; }
    }

    private sealed class Waiter(Share share, long bytes)
    {
        public Share Share { get; } = share;

        public long Bytes { get; } = bytes;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
