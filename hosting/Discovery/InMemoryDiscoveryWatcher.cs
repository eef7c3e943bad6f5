using System.Threading.Channels;

namespace Plexus.Hosting.Discovery;

/// <summary>
/// One watcher's pending work in <see cref="InMemoryDiscoveryProvider"/>. Writers only mark instance ids dirty and
/// post a wake-up; the watcher later compares what it has delivered with what is current. A slow watcher therefore
/// costs at most one id per changed instance (capped, then a full resync) and never blocks a registration.
/// All members except <see cref="WaitAsync"/> are called under the provider's lock.
/// </summary>
internal sealed class InMemoryDiscoveryWatcher
{
    // Above this many distinct dirty ids the watcher stops tracking ids and diffs the whole endpoint instead.
    private const int MaxDirtyIds = 4096;

    // Capacity 1 with DropWrite: an auto-reset wake-up that a writer posts without ever waiting.
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly List<InstanceId> _dirtyOrder = [];
    private readonly HashSet<InstanceId> _dirty = [];
    private readonly Dictionary<InstanceId, Instance> _delivered = [];
    private bool _resyncAll;

    public InMemoryDiscoveryWatcher(EndpointAddress endpoint)
    {
        Endpoint = endpoint;
    }

    public EndpointAddress Endpoint { get; }

    /// <summary>Records the snapshot the watcher starts from.</summary>
    public void Deliver(Instance instance) => _delivered[instance.Id] = instance;

    /// <summary>Notes that an instance changed and wakes the watcher.</summary>
    public void MarkDirty(InstanceId id)
    {
        if (!_resyncAll)
        {
            if (_dirty.Count >= MaxDirtyIds)
            {
                _resyncAll = true;
                _dirty.Clear();
                _dirtyOrder.Clear();
            }
            else if (_dirty.Add(id))
            {
                _dirtyOrder.Add(id);
            }
        }

        _wake.Writer.TryWrite(true);
    }

    /// <summary>Turns the pending changes into events against the current instances, and forgets them.</summary>
    public List<DiscoveryEvent> TakeChanges(IReadOnlyDictionary<InstanceId, Instance> current)
    {
        IEnumerable<InstanceId> ids;
        if (_resyncAll)
        {
            ids = _delivered.Keys.Union(current.Keys).ToList();
            _resyncAll = false;
        }
        else
        {
            ids = _dirtyOrder.ToList();
        }

        _dirty.Clear();
        _dirtyOrder.Clear();

        var events = new List<DiscoveryEvent>();
        foreach (var id in ids)
        {
            var had = _delivered.TryGetValue(id, out var before);
            var has = current.TryGetValue(id, out var now);
            if (had && !has)
            {
                _delivered.Remove(id);
                events.Add(new DiscoveryEvent(DiscoveryEventKind.Removed, before!));
            }
            else if (!had && has)
            {
                _delivered[id] = now!;
                events.Add(new DiscoveryEvent(DiscoveryEventKind.Added, now!));
            }
            else if (had && has && !before!.Equals(now))
            {
                _delivered[id] = now!;
                events.Add(new DiscoveryEvent(DiscoveryEventKind.Updated, now!));
            }
        }

        return events;
    }

    /// <summary>Waits for a wake-up; false when the watch was cancelled.</summary>
    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _wake.Reader.ReadAsync(cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
