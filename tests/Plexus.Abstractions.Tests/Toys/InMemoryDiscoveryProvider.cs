using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>Discovery kept in one process's memory, with leases that expire on a clock.</summary>
internal sealed class InMemoryDiscoveryProvider : IDiscoveryProvider
{
    private readonly object _gate = new();
    private readonly Dictionary<(EndpointAddress Endpoint, InstanceId Id), InMemoryLease> _leases = new();
    private readonly List<(EndpointAddress Endpoint, ChannelWriter<DiscoveryEvent> Writer)> _watchers = new();

    public InMemoryDiscoveryProvider(TimeProvider time)
    {
        Time = time;
    }

    public string Name => "in-memory";

    public TimeProvider Time { get; }

    public ValueTask<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        var lease = new InMemoryLease(this, instance, timeToLive);
        lock (_gate)
        {
            if (!_leases.TryAdd((instance.Endpoint, instance.Id), lease))
            {
                throw new InvalidOperationException($"Instance {instance.Id} of {instance.Endpoint} is already registered.");
            }

            Publish(new DiscoveryEvent(DiscoveryEventKind.Added, instance));
        }

        return ValueTask.FromResult<IDiscoveryLease>(lease);
    }

    public async IAsyncEnumerable<DiscoveryEvent> WatchAsync(EndpointAddress endpoint, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<DiscoveryEvent>();
        lock (_gate)
        {
            Expire();
            foreach (var lease in _leases.Values)
            {
                if (lease.Instance.Endpoint == endpoint)
                {
                    channel.Writer.TryWrite(new DiscoveryEvent(DiscoveryEventKind.Added, lease.Instance));
                }
            }

            _watchers.Add((endpoint, channel.Writer));
        }

        try
        {
            while (true)
            {
                DiscoveryEvent next;
                try
                {
                    next = await channel.Reader.ReadAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // The contract: the watch ends when its token fires.
                    yield break;
                }

                yield return next;
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove((endpoint, channel.Writer));
            }
        }
    }

    public ValueTask<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint, CancellationToken cancellationToken)
    {
        var result = new List<Instance>();
        lock (_gate)
        {
            Expire();
            foreach (var lease in _leases.Values)
            {
                if (endpoint is null || lease.Instance.Endpoint == endpoint)
                {
                    result.Add(lease.Instance);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<Instance>>(result);
    }

    internal bool TryRenew(InMemoryLease lease)
    {
        lock (_gate)
        {
            Expire();
            if (!_leases.TryGetValue((lease.Instance.Endpoint, lease.Instance.Id), out var current) || current != lease)
            {
                return false;
            }

            lease.ExpiresAt = Time.GetUtcNow() + lease.TimeToLive;
            return true;
        }
    }

    internal bool TryUpdate(InMemoryLease lease, Instance updated)
    {
        lock (_gate)
        {
            Expire();
            if (!_leases.TryGetValue((lease.Instance.Endpoint, lease.Instance.Id), out var current) || current != lease)
            {
                return false;
            }

            lease.Instance = updated;
            Publish(new DiscoveryEvent(DiscoveryEventKind.Updated, updated));
            return true;
        }
    }

    internal void Remove(InMemoryLease lease)
    {
        lock (_gate)
        {
            if (_leases.Remove((lease.Instance.Endpoint, lease.Instance.Id)))
            {
                Publish(new DiscoveryEvent(DiscoveryEventKind.Removed, lease.Instance));
            }
        }
    }

    private void Expire()
    {
        var now = Time.GetUtcNow();
        foreach (var lease in _leases.Values.ToList())
        {
            if (lease.ExpiresAt <= now)
            {
                _leases.Remove((lease.Instance.Endpoint, lease.Instance.Id));
                Publish(new DiscoveryEvent(DiscoveryEventKind.Removed, lease.Instance));
            }
        }
    }

    private void Publish(DiscoveryEvent change)
    {
        foreach (var (endpoint, writer) in _watchers)
        {
            if (endpoint == change.Instance.Endpoint)
            {
                writer.TryWrite(change);
            }
        }
    }
}
