namespace Plexus.Transport.Tcp;

/// <summary>
/// Send credit granted by the peer, for one stream or a whole connection. A sender takes credit before it queues a
/// frame and waits while there is not enough; CREDIT frames from the peer add to it. Waiters are served in order, so
/// one stream cannot starve another on the connection window. The path that does not wait allocates nothing and,
/// while nobody waits, takes no lock (a streaming handler takes credit for every message): the count is changed
/// with interlocked operations everywhere, and the lock only orders the waiters against <see cref="Add"/>.
/// On a low-latency connection a waiter woken by credit that arrives on the connection's reader thread resumes there,
/// inside the read's dispatch (see FrameConnection.LowLatency.cs): a stream that outgrew its window goes on writing
/// where its frames are flushed once per read, instead of one write per message from the pool.
/// A window allocates its waiter queue only when someone first waits, and a window closed because its stream ended
/// makes the error it reports only when someone is there to hear it: a unary request's two windows cost neither.
/// </summary>
internal sealed class CreditWindow
{
    private readonly Lock _gate = new();
    private readonly FrameConnection? _connection;
    private Queue<Waiter>? _waiters;
    private long _available;
    private int _waiting;

    // Set once closed: the error, or the state it is made from by _closedError when first needed (ClosedErrorLocked).
    private object? _closed;
    private Func<object, Exception>? _closedError;

    /// <param name="initial">The credit granted at the start.</param>
    /// <param name="connection">The connection whose reader thread waiters may resume on, in low-latency mode.</param>
    public CreditWindow(long initial, FrameConnection? connection = null)
    {
        _available = initial;
        _connection = connection;
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
                return ValueTask.FromException<int>(ClosedErrorLocked());
            }

            var waiters = _waiters ??= new Queue<Waiter>();
            while (waiters.TryPeek(out var head) && head.IsDone)
            {
                // Cancelled while queued: it must not hold up those behind it.
                waiters.Dequeue();
            }

            if (waiters.Count == 0 && TryTake(minimum, maximum, out var taken))
            {
                return new ValueTask<int>(taken);
            }

            // Added under the lock, and Add looks at the queue under the lock: no credit can arrive unseen.
            waiter = new Waiter(minimum, maximum, resumesInline: _connection?.IsLowLatency == true);
            waiters.Enqueue(waiter);
            Interlocked.Exchange(ref _waiting, waiters.Count);

            // Return adds without the lock while nobody waits: credit it added just before _waiting was published is
            // taken here.
            if (waiters.Count == 1 && TryTake(minimum, maximum, out var late))
            {
                waiters.Dequeue();
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
            var waiters = _waiters;
            while (waiters is not null && waiters.TryPeek(out var head))
            {
                if (head.IsDone)
                {
                    // Cancelled while queued.
                    waiters.Dequeue();
                    continue;
                }

                if (!TryTake(head.Minimum, head.Maximum, out var taken))
                {
                    break;
                }

                waiters.Dequeue();
                (wake ??= []).Add((head, taken));
            }

            Volatile.Write(ref _waiting, waiters?.Count ?? 0);
        }

        if (wake is not null)
        {
            foreach (var (waiter, taken) in wake)
            {
                if (waiter.ResumesInline && !_connection!.MayResumeInline)
                {
                    // Never inline on any other thread: it may hold a lock, or be a caller's own.
                    ThreadPool.UnsafeQueueUserWorkItem(static state => state.Window.Resume(state.Waiter, state.Taken), (Window: this, Waiter: waiter, Taken: taken), preferLocal: false);
                }
                else
                {
                    Resume(waiter, taken);
                }
            }
        }

        return true;
    }

    /// <summary>Ends the window: waiters and later takers fail with <paramref name="error"/>.</summary>
    public void Close(Exception error) => End(makeError: null, error);

    /// <summary>
    /// Ends the window: waiters and later takers fail with the error <paramref name="error"/> makes from
    /// <paramref name="state"/>, made once, when the first of them needs it.
    /// </summary>
    public void Close(Func<object, Exception> error, object state) => End(error, state);

    // closedBy is the error itself when makeError is null, else the state makeError makes it from.
    private void End(Func<object, Exception>? makeError, object closedBy)
    {
        Waiter[]? waiting = null;
        Exception? failure = null;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return;
            }

            _closedError = makeError;
            Volatile.Write(ref _closed, closedBy);
            if (_waiters is { Count: > 0 } waiters)
            {
                waiting = waiters.ToArray();
                waiters.Clear();
                failure = ClosedErrorLocked();
            }

            Volatile.Write(ref _waiting, 0);
        }

        if (waiting is not null)
        {
            foreach (var waiter in waiting)
            {
                waiter.Fail(failure!);
            }
        }
    }

    private Exception ClosedErrorLocked()
    {
        if (_closedError is { } make)
        {
            _closed = make(_closed!);
            _closedError = null;
        }

        return (Exception)_closed!;
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

        using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), waiter))
        {
            return await waiter.Completion.Task.ConfigureAwait(false);
        }
    }

    private void Resume(Waiter waiter, int taken)
    {
        if (waiter.IsCancelled || !waiter.Completion.TrySetResult(taken))
        {
            // Cancelled between the check and now: the credit goes back.
            Add(taken);
        }
    }

    private sealed class Waiter(int minimum, int maximum, bool resumesInline)
    {
        private volatile bool _cancelled;

        public int Minimum { get; } = minimum;

        public int Maximum { get; } = maximum;

        /// <summary>Whether the waiter may resume on the thread that completes it (low-latency mode); else on the pool.</summary>
        public bool ResumesInline { get; } = resumesInline;

        public TaskCompletionSource<int> Completion { get; } = new(resumesInline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Whether the waiter gave up (its token fired), though the completion may still be on its way.</summary>
        public bool IsCancelled => _cancelled;

        /// <summary>Completed, or given up: it takes no credit any more.</summary>
        public bool IsDone => _cancelled || Completion.Task.IsCompleted;

        // A waiter that would resume inline resumes on the pool here: the canceller and the closer may hold locks.
        public void Cancel(CancellationToken token)
        {
            if (!ResumesInline)
            {
                Completion.TrySetCanceled(token);
                return;
            }

            _cancelled = true;
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Waiter.Completion.TrySetCanceled(state.Token), (Waiter: this, Token: token), preferLocal: false);
        }

        public void Fail(Exception error)
        {
            if (!ResumesInline)
            {
                Completion.TrySetException(error);
                return;
            }

            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Waiter.Completion.TrySetException(state.Error), (Waiter: this, Error: error), preferLocal: false);
        }
    }
}
