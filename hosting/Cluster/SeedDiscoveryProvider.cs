using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// Discovery provider <c>seed</c>: the cluster's member table doubles as a registry for clusters without etcd. The seed
/// keeps every member's instances under leases (in memory); members register, renew and watch over their mutual-TLS
/// control connections. A watch that reconnects lists again and reports the difference, so nothing is missed.
/// </summary>
internal sealed class SeedDiscoveryProvider(IServiceProvider services) : IDiscoveryProvider
{
    private ClusterNode Node => services.GetRequiredService<ClusterNode>();

    private volatile string? _problem;

    public string Name => "seed";

    public TransportHealth Health => _problem is { } problem
        ? new TransportHealth(HealthStatus.Degraded, problem)
        : TransportHealth.Healthy;

    public async ValueTask<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var node = Node;
        if (node.Server is { } server)
        {
            return await server.Registry.RegisterAsync(instance, timeToLive, cancellationToken);
        }

        try
        {
            await Observe(Remote(node).CallAsync(new ControlRequest("register", Instance: InstanceElements.ToElement(instance), TtlMs: (long)timeToLive.TotalMilliseconds), cancellationToken));
        }
        catch (PlexusException) when (!cancellationToken.IsCancellationRequested)
        {
            // The seed is away (restarting, or unreachable for now): the node starts anyway, degraded. The lease's first
            // renewal finds no registration at the seed and fails, and the node registers again then.
        }

        return new SeedDiscoveryLease(this, Remote(node), instance, timeToLive);
    }

    public async ValueTask<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint, CancellationToken cancellationToken)
    {
        var node = Node;
        if (node.Server is { } server)
        {
            return await server.Registry.ListAsync(endpoint, cancellationToken);
        }

        var answer = await Observe(Remote(node).CallAsync(new ControlRequest("list", Endpoint: endpoint?.ToString()), cancellationToken));
        var instances = new List<Instance>(answer.Instances?.Length ?? 0);
        foreach (var element in answer.Instances ?? [])
        {
            instances.Add(InstanceElements.FromElement(element));
        }

        return instances;
    }

    public async IAsyncEnumerable<DiscoveryEvent> WatchAsync(EndpointAddress endpoint, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var node = Node;
        if (node.Server is { } server)
        {
            await foreach (var change in server.Registry.WatchAsync(endpoint, cancellationToken))
            {
                yield return change;
            }

            yield break;
        }

        var seed = Remote(node);
        var known = new Dictionary<InstanceId, Instance>();
        var delay = TimeSpan.FromMilliseconds(100);
        while (!cancellationToken.IsCancellationRequested)
        {
            var changes = new List<DiscoveryEvent>();
            IAsyncEnumerator<ControlResponse>? stream = null;
            try
            {
                // List first: after a reconnect the difference from what was known is reported, never a gap.
                var listed = await ListAsync(endpoint, cancellationToken);
                Diff(known, listed, changes);
                stream = seed.WatchAsync(endpoint.ToString(), cancellationToken).GetAsyncEnumerator(cancellationToken);
            }
            catch (PlexusException ex)
            {
                _problem = ex.Message;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            foreach (var change in changes)
            {
                yield return change;
            }

            if (stream is not null)
            {
                await using (stream)
                {
                    while (true)
                    {
                        DiscoveryEvent? next = null;
                        try
                        {
                            if (!await stream.MoveNextAsync())
                            {
                                break;
                            }

                            _problem = null;
                            delay = TimeSpan.FromMilliseconds(100);
                            next = Apply(known, stream.Current);
                        }
                        catch (PlexusException ex)
                        {
                            _problem = ex.Message;
                            break;
                        }
                        catch (Exception ex) when (ex is IOException or InvalidDataException)
                        {
                            _problem = $"the watch of {endpoint} at the seed broke: {ex.Message}";
                            break;
                        }
                        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                        {
                            yield break;
                        }

                        if (next is not null)
                        {
                            yield return next.Value;
                        }
                    }
                }
            }

            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    private static void Diff(Dictionary<InstanceId, Instance> known, IReadOnlyList<Instance> listed, List<DiscoveryEvent> changes)
    {
        var seen = new HashSet<InstanceId>();
        foreach (var instance in listed)
        {
            seen.Add(instance.Id);
            if (!known.TryGetValue(instance.Id, out var before))
            {
                changes.Add(new DiscoveryEvent(DiscoveryEventKind.Added, instance));
            }
            else if (before != instance)
            {
                changes.Add(new DiscoveryEvent(DiscoveryEventKind.Updated, instance));
            }

            known[instance.Id] = instance;
        }

        foreach (var (id, instance) in known.ToArray())
        {
            if (!seen.Contains(id))
            {
                known.Remove(id);
                changes.Add(new DiscoveryEvent(DiscoveryEventKind.Removed, instance));
            }
        }
    }

    /// <summary>One event of the seed's watch, reported only when it changes what this watcher knows.</summary>
    private static DiscoveryEvent? Apply(Dictionary<InstanceId, Instance> known, ControlResponse change)
    {
        var instance = InstanceElements.FromElement(change.Instance ?? throw new InvalidDataException("a watch event carries no instance"));
        if (change.Kind == nameof(DiscoveryEventKind.Removed))
        {
            return known.Remove(instance.Id) ? new DiscoveryEvent(DiscoveryEventKind.Removed, instance) : null;
        }

        if (known.TryGetValue(instance.Id, out var before) && before == instance)
        {
            return null;
        }

        var kind = known.ContainsKey(instance.Id) ? DiscoveryEventKind.Updated : DiscoveryEventKind.Added;
        known[instance.Id] = instance;
        return new DiscoveryEvent(kind, instance);
    }

    internal async Task<ControlResponse> Observe(Task<ControlResponse> call)
    {
        try
        {
            var answer = await call;
            _problem = null;
            return answer;
        }
        catch (PlexusException ex) when (ex is not SeedRefusedException)
        {
            _problem = ex.Message;
            throw;
        }
    }

    private static SeedClient Remote(ClusterNode node) =>
        node.Seed ?? throw new PlexusException(
            PlexusErrorCode.Unavailable,
            "Discovery 'seed' needs this node to be in a cluster: set Plexus:Cluster:Seed=true on the seed, or Plexus:Cluster:Join and Plexus:Cluster:Token here.");
}
