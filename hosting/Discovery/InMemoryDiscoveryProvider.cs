using System.Runtime.CompilerServices;

namespace Plexus.Hosting.Discovery;

/// <summary>
/// Discovery inside one process: for tests and single-process deployments. Leases expire on the injected
/// <see cref="TimeProvider"/>'s clock unless renewed. Watchers are coalescing (see <see cref="InMemoryDiscoveryWatcher"/>):
/// discovery is state, not a log, so a watcher that falls behind receives the net change per instance rather than
/// every intermediate step, and a registration never waits for a watcher.
/// </summary>
internal sealed class InMemoryDiscoveryProvider : IDiscoveryProvider
{
    private readonly Lock _gate = new();
    private readonly Dictionary<EndpointAddress, Dictionary<InstanceId, InMemoryDiscoveryLease>> _endpoints = [];
    private readonly Dictionary<EndpointAddress, List<InMemoryDiscoveryWatcher>> _watchers = [];

    public InMemoryDiscoveryProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        TimeProvider = timeProvider;
    }

    public string Name => "memory";

    internal TimeProvider TimeProvider { get; }

    public ValueTask<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();

        var lease = new InMemoryDiscoveryLease(this, instance, timeToLive);
        lock (_gate)
        {
            if (!_endpoints.TryGetValue(instance.Endpoint, out var instances))
            {
                instances = [];
                _endpoints[instance.Endpoint] = instances;
            }

            // The last registration of an id wins; the earlier lease finds out on its next renewal.
            instances[instance.Id] = lease;
            NotifyLocked(instance.Endpoint, instance.Id);
        }

        lease.StartTimer();
        return ValueTask.FromResult<IDiscoveryLease>(lease);
    }

    public async IAsyncEnumerable<DiscoveryEvent> WatchAsync(
        EndpointAddress endpoint,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var watcher = new InMemoryDiscoveryWatcher(endpoint);
        List<Instance> snapshot;
        lock (_gate)
        {
            if (!_watchers.TryGetValue(endpoint, out var list))
            {
                list = [];
                _watchers[endpoint] = list;
            }

            // Joining the watcher list and taking the snapshot under one lock leaves no gap for a change to slip through.
            list.Add(watcher);
            snapshot = [.. CurrentLocked(endpoint).Values.OrderBy(i => i.Id.Value)];
            foreach (var instance in snapshot)
            {
                watcher.Deliver(instance);
            }
        }

        try
        {
            foreach (var instance in snapshot)
            {
                yield return new DiscoveryEvent(DiscoveryEventKind.Added, instance);
            }

            while (await watcher.WaitAsync(cancellationToken))
            {
                List<DiscoveryEvent> changes;
                lock (_gate)
                {
                    changes = watcher.TakeChanges(CurrentLocked(endpoint));
                }

                foreach (var change in changes)
                {
                    yield return change;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                if (_watchers.TryGetValue(endpoint, out var list) && list.Remove(watcher) && list.Count == 0)
                {
                    _watchers.Remove(endpoint);
                }
            }
        }
    }

    public ValueTask<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IEnumerable<Instance> result = endpoint is { } one
                ? CurrentLocked(one).Values
                : _endpoints.Keys.SelectMany(e => CurrentLocked(e).Values);
            return ValueTask.FromResult<IReadOnlyList<Instance>>(
                [.. result.OrderBy(i => i.Endpoint.ToString(), StringComparer.Ordinal).ThenBy(i => i.Id.Value)]);
        }
    }

    /// <summary>Runs <paramref name="change"/> under the lock if <paramref name="lease"/> still holds its id, then notifies watchers.</summary>
    internal bool TryChange(InMemoryDiscoveryLease lease, Action change)
    {
        lock (_gate)
        {
            if (!IsCurrentLocked(lease))
            {
                return false;
            }

            change();
            NotifyLocked(lease.Instance.Endpoint, lease.Instance.Id);
            return true;
        }
    }

    /// <summary>Removes the lease's registration if it still holds it; with <paramref name="onlyIfExpired"/>, only once its time is up.</summary>
    internal bool TryRemove(InMemoryDiscoveryLease lease, bool onlyIfExpired)
    {
        lock (_gate)
        {
            if (!IsCurrentLocked(lease) || (onlyIfExpired && lease.ExpiresAt > TimeProvider.GetUtcNow()))
            {
                return false;
            }

            var endpoint = lease.Instance.Endpoint;
            var instances = _endpoints[endpoint];
            instances.Remove(lease.Instance.Id);
            if (instances.Count == 0)
            {
                _endpoints.Remove(endpoint);
            }

            NotifyLocked(endpoint, lease.Instance.Id);
            return true;
        }
    }

    private bool IsCurrentLocked(InMemoryDiscoveryLease lease) =>
        _endpoints.TryGetValue(lease.Instance.Endpoint, out var instances)
        && instances.TryGetValue(lease.Instance.Id, out var holder)
        && ReferenceEquals(holder, lease);

    private Dictionary<InstanceId, Instance> CurrentLocked(EndpointAddress endpoint)
    {
        var result = new Dictionary<InstanceId, Instance>();
        if (_endpoints.TryGetValue(endpoint, out var instances))
        {
            var now = TimeProvider.GetUtcNow();
            foreach (var (id, lease) in instances)
            {
                // A lease past its time counts as gone even before its timer has run.
                if (lease.ExpiresAt > now)
                {
                    result[id] = lease.Instance;
                }
            }
        }

        return result;
    }

    private void NotifyLocked(EndpointAddress endpoint, InstanceId id)
    {
        if (_watchers.TryGetValue(endpoint, out var list))
        {
            foreach (var watcher in list)
            {
                watcher.MarkDirty(id);
            }
        }
    }
}
