namespace Plexus.Transport.Tcp;

/// <summary>
/// Send credit granted by the peer, for one stream or a whole connection. A sender takes credit before it queues a
/// frame and waits while there is not enough; CREDIT frames from the peer add to it. Waiters are served in order, so
/// one stream cannot starve another on the connection window. The path that does not wait allocates nothing.
/// </summary>
internal sealed class CreditWindow
{
    private readonly Lock _gate = new();
    private readonly Queue<Waiter> _waiters = new();
    private long _available;
    private Exception? _closed;

    public CreditWindow(long initial)
    {
        _available = initial;
    }

    /// <summary>The credit available now.</summary>
    public long Available
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    /// <summary>Takes between <paramref name="minimum"/> and <paramref name="maximum"/> credit, waiting until at least the minimum is there.</summary>
    /// <returns>The credit taken.</returns>
    /// <exception cref="PlexusException">The window was closed (the stream or connection ended).</exception>
    public ValueTask<int> TakeAsync(int minimum, int maximum, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return ValueTask.FromException<int>(_closed);
            }

            if (_waiters.Count == 0 && _available >= minimum)
            {
                var taken = (int)Math.Min(_available, maximum);
                _available -= taken;
                return new ValueTask<int>(taken);
            }

            waiter = new Waiter(minimum, maximum);
            _waiters.Enqueue(waiter);
        }

        return WaitAsync(waiter, cancellationToken);
    }

    /// <summary>Adds credit and wakes the waiters it satisfies.</summary>
    /// <returns><see langword="false"/> when the window would overflow (the peer broke flow control).</returns>
    public bool Add(long credit)
    {
        List<(Waiter, int)>? wake = null;
        lock (_gate)
        {
            if (_available + credit > int.MaxValue)
            {
                return false;
            }

            _available += credit;
            while (_waiters.TryPeek(out var head))
            {
                if (head.Completion.Task.IsCompleted)
                {
                    // Cancelled while queued.
                    _waiters.Dequeue();
                    continue;
                }

                if (_available < head.Minimum)
                {
                    break;
                }

                _waiters.Dequeue();
                var taken = (int)Math.Min(_available, head.Maximum);
                _available -= taken;
                (wake ??= []).Add((head, taken));
            }
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

            _closed = error;
            waiting = _waiters.ToArray();
            _waiters.Clear();
        }

        foreach (var waiter in waiting)
        {
            waiter.Completion.TrySetException(error);
        }
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
