namespace Plexus.Transport.Nats;

/// <summary>
/// What the NATS transport gathers per key (a request subject's heads, a client's answers) and publishes as one NATS
/// message per key from one thread-pool work item, never a timer. The first entry gathered anywhere queues the item on
/// the pool's global queue, not the thread's own: the thread's next work is often another caller or handler woken by
/// the same frame, whose entry should go with this one. The item goes once more around the global queue before it
/// publishes, so that the callers and handlers woken together with the one that queued it (on other threads' queues,
/// which a thread looks at after the global one) add theirs first. A thread that runs a batch of handlers or callers
/// in turn corks the gatherer instead (<see cref="Cork"/>): their entries then go when it uncorks. Should it block
/// before then (a caller waiting, thread blocked, for the answer to a request it has just made), a one-shot timer
/// that a cork arms publishes them once the same cork has owed them for 10 ms or more.
/// </summary>
/// <typeparam name="TGather">One key's gather.</typeparam>
internal abstract class NatsGatherer<TGather> : IThreadPoolWorkItem
    where TGather : NatsGather
{
    // The gatherer whose entries this thread publishes itself at the end of a batch (see Cork).
    [ThreadStatic]
    private static NatsGatherer<TGather>? t_corked;

    private readonly List<TGather> _pending = [];
    private bool _scheduled;
    private bool _requeued;

    // Whether the corked thread took the place of the work item, and so owes a flush when it uncorks.
    private bool _corkOwes;

    // Rescues a cork whose thread blocked before it uncorked. One-shot, armed by a cork that owes while it is not
    // armed, so at most once per period under load and dormant otherwise; each uncork counts one epoch.
    private static readonly TimeSpan StuckAfter = TimeSpan.FromMilliseconds(10);
    private readonly Timer _watch;
    private bool _watchArmed;
    private long _corkEpoch;
    private long _watchedEpoch;

    /// <summary>Creates the gatherer.</summary>
    protected NatsGatherer() =>
        _watch = new Timer(static gatherer => ((NatsGatherer<TGather>)gatherer!).Watch(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>Guards every gather, and what a subclass keeps of them.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>Publishes everything gathered (the work item, and the owner before it closes its connection).</summary>
    public void Flush()
    {
        lock (Gate)
        {
            _scheduled = false;
            foreach (var gather in _pending)
            {
                gather.Pending = false;
                PublishLocked(gather);
            }

            _pending.Clear();
        }
    }

    /// <summary>
    /// From now until <see cref="Uncork"/>, entries gathered on this thread are published by this thread when it
    /// uncorks, not by the work item. For a thread that runs several handlers or callers in a row (a <c>heads</c>
    /// frame's requests, a <c>lasts</c> frame's callers), whose entries then go as one frame without the work item's
    /// trips around the global queue. Should the thread block first, the watch timer publishes them (see the class).
    /// </summary>
    public void Cork() => t_corked = this;

    /// <summary>Whether this thread is between <see cref="Cork"/> and <see cref="Uncork"/> of this gatherer.</summary>
    public bool IsCorkedHere => t_corked == this;

    /// <summary>Ends <see cref="Cork"/> on this thread, and publishes what the work item would have.</summary>
    public void Uncork()
    {
        t_corked = null;
        bool owes;
        lock (Gate)
        {
            owes = _corkOwes;
            _corkOwes = false;
            _corkEpoch++;
        }

        if (owes)
        {
            Flush();
        }
    }

    /// <inheritdoc />
    void IThreadPoolWorkItem.Execute()
    {
        if (!_requeued)
        {
            _requeued = true;
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return;
        }

        _requeued = false;
        Flush();
    }

    /// <summary>Under <see cref="Gate"/>: one key's entries as one NATS message, or a lone entry as the frame it would have been.</summary>
    /// <param name="gather">The key's gather; empty it.</param>
    protected abstract void PublishLocked(TGather gather);

    /// <summary>Under <see cref="Gate"/>: a gather has a new entry and waits for the work item.</summary>
    /// <param name="gather">The gather.</param>
    /// <returns>True when the work item must be queued, by <see cref="Schedule"/> once the lock is left.</returns>
    protected bool PendLocked(TGather gather)
    {
        if (!gather.Pending)
        {
            gather.Pending = true;
            _pending.Add(gather);
        }

        if (_scheduled)
        {
            return false;
        }

        _scheduled = true;
        if (t_corked == this)
        {
            // Entries from other threads meanwhile see the gatherer scheduled and go with this thread's flush.
            _corkOwes = true;
            ArmWatchLocked();
            return false;
        }

        return true;
    }

    /// <summary>Queues the work item; call outside the lock when <see cref="PendLocked"/> said so.</summary>
    protected void Schedule() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    private void ArmWatchLocked()
    {
        if (!_watchArmed)
        {
            _watchArmed = true;
            _watchedEpoch = _corkEpoch;
            _watch.Change(StuckAfter, Timeout.InfiniteTimeSpan);
        }
    }

    // The watch fired: a cork that has owed since it was armed (no uncork since) is stuck, and its entries go now.
    private void Watch()
    {
        bool stuck;
        lock (Gate)
        {
            _watchArmed = false;
            stuck = _corkOwes && _corkEpoch == _watchedEpoch;
            if (stuck)
            {
                _corkOwes = false;
            }
            else if (_corkOwes)
            {
                ArmWatchLocked();
            }
        }

        if (stuck)
        {
            Flush();
        }
    }
}

/// <summary>One key's entries gathered by a <see cref="NatsGatherer{TGather}"/>.</summary>
internal abstract class NatsGather
{
    /// <summary>The entries; a field, since the struct is used in place.</summary>
    public GatherBuffer Entries = new(256);

    /// <summary>Whether the gatherer's work item will publish it.</summary>
    public bool Pending { get; set; }
}
