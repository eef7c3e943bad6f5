namespace Plexus.Transport.Tcp;

/// <summary>
/// Send credit granted by the peer, for one stream or a whole connection. A sender takes credit before it queues a
/// frame and waits while there is not enough; CREDIT frames from the peer add to it. Waiters are served in order, so
/// one stream cannot starve another on the connection window. The path that does not wait allocates nothing and,
/// while nobody waits, takes no lock (a streaming handler takes credit for every message): the count is changed
/// with interlocked operations everywhere, and the lock only orders the waiters against <see cref="Add"/>.
/// </summary>
internal sealed class CreditWindow
{
    private readonly Lock _gate = new();
    private readonly Queue<Waiter> _waiters = new();
    private long _available;
    private int _waiting;
    private Exception? _closed;

    public CreditWindow(long initial)
    {
        _available = initial;
    }

    /// <summary>The credit available now.</summary>
    public long Available => Volatile.Read(ref _available);

    /// <summary>Takes between <paramref name="minimum"/> and <paramref name="maximum"/> credit, waiting until at least the minimum is there.</summary>
    /// <returns>The credit taken.</returns>
    /// <exception cref="PlexusException">The window was closed (the stream or connection ended).</exception>
    public ValueTask<int> TakeAsync(int minimum, int maximum, CancellationToken cancellationToken)
    {
        // Nobody queued ahead: take without the lock. A taker racing with one that is just queueing may get ahead of
        // it once; the queue keeps the order from then on.
        if (Volatile.Read(ref _waiting) == 0 && Volatile.Read(ref _closed) is null && TryTake(minimum, maximum, out var quick))
        {
            return new ValueTask<int>(quick);
        }

        Waiter waiter;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return ValueTask.FromException<int>(_closed);
            }

            while (_waiters.TryPeek(out var head) && head.Completion.Task.IsCompleted)
            {
                // Cancelled while queued: it must not hold up those behind it.
                _waiters.Dequeue();
            }

            if (_waiters.Count == 0 && TryTake(minimum, maximum, out var taken))
            {
                return new ValueTask<int>(taken);
            }

            // Added under the lock, and Add looks at the queue under the lock: no credit can arrive unseen.
            waiter = new Waiter(minimum, maximum);
            _waiters.Enqueue(waiter);
            Interlocked.Exchange(ref _waiting, _waiters.Count);

            // Return adds without the lock while nobody waits: credit it added just before _waiting was published is
            // taken here.
            if (_waiters.Count == 1 && TryTake(minimum, maximum, out var late))
            {
                _waiters.Dequeue();
                Volatile.Write(ref _waiting, 0);
                return new ValueTask<int>(late);
            }
        }

        return WaitAsync(waiter, cancellationToken);
    }

    /// <summary>
    /// Gives back credit this side took and did not use. While nobody waits it is one atomic add, no lock; otherwise it
    /// is <see cref="Add"/>. It cannot overflow: the credit was in the window before.
    /// </summary>
    public void Return(long credit)
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            // The add is a full fence before the read of _waiting, and a taker publishes _waiting with one before it
            // looks at the credit again (TakeAsync): one of the two always sees the other.
            Interlocked.Add(ref _available, credit);
            if (Volatile.Read(ref _waiting) == 0)
            {
                return;
            }

            credit = 0;
        }

        Add(credit);
    }

    /// <summary>Adds credit and wakes the waiters it satisfies.</summary>
    /// <returns><see langword="false"/> when the window would overflow (the peer broke flow control).</returns>
    public bool Add(long credit)
    {
        List<(Waiter, int)>? wake = null;
        lock (_gate)
        {
            // Takers outside the lock only ever lower the count, so this check cannot pass wrongly.
            if (Volatile.Read(ref _available) + credit > int.MaxValue)
            {
                return false;
            }

            Interlocked.Add(ref _available, credit);
            while (_waiters.TryPeek(out var head))
            {
                if (head.Completion.Task.IsCompleted)
                {
                    // Cancelled while queued.
                    _waiters.Dequeue();
                    continue;
                }

                if (!TryTake(head.Minimum, head.Maximum, out var taken))
                {
                    break;
                }

                _waiters.Dequeue();
                (wake ??= []).Add((head, taken));
            }

            Volatile.Write(ref _waiting, _waiters.Count);
        }

        if (wake is not null)
        {
            foreach (var (waiter, taken) in wake)
            {
                if (!waiter.Completion.TrySetResult(taken))
                {
                    // Cancelled between the check and now: the credit goes back.
                    Add(taken);
                }
            }
        }

        return true;
    }

    /// <summary>Ends the window: waiters and later takers fail with <paramref name="error"/>.</summary>
    public void Close(Exception error)
    {
        Waiter[] waiting;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return;
            }

            Volatile.Write(ref _closed, error);
            waiting = _waiters.ToArray();
            _waiters.Clear();
            Volatile.Write(ref _waiting, 0);
        }

        foreach (var waiter in waiting)
        {
            waiter.Completion.TrySetException(error);
        }
    }

    // Takes between minimum and maximum when at least minimum is there, racing other takers with compare-and-swap.
    private bool TryTake(int minimum, int maximum, out int taken)
    {
        var available = Volatile.Read(ref _available);
        while (available >= minimum)
        {
            taken = (int)Math.Min(available, maximum);
            var seen = Interlocked.CompareExchange(ref _available, available - taken, available);
            if (seen == available)
            {
                return true;
            }

            available = seen;
        }

        taken = 0;
        return false;
    }

    private static async ValueTask<int> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return await waiter.Completion.Task.ConfigureAwait(false);
        }

        using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Completion.TrySetCanceled(token), waiter))
        {
            return await waiter.Completion.Task.ConfigureAwait(false);
        }
    }

    private sealed class Waiter(int minimum, int maximum)
    {
        public int Minimum { get; } = minimum;

        public int Maximum { get; } = maximum;

        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
