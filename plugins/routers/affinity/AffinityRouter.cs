using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Plexus.Router.Affinity;

/// <summary>
/// <c>affinity</c>: requests with the same <see cref="AffinityHeaders.AffinityKey"/> go to the same instance, chosen by
/// consistent hashing with bounded loads; an instance at the bound is passed over for the next one on the ring, and
/// requests without a key go by power-of-two-choices.
/// </summary>
internal sealed class AffinityRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "affinity";

    private readonly ConcurrentDictionary<EndpointAddress, Routes> _routes = new();
    private readonly Func<EndpointAddress, Routes> _newRoutes = static _ => new Routes();
    private readonly AffinityRouterOptions _options;
    private readonly RoutingMetrics _metrics;
    private readonly TimeProvider _time;

    public AffinityRouter(IOptions<AffinityRouterOptions> options, RoutingMetrics metrics, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _metrics = metrics;
        _time = time;
    }

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (candidates.IsEmpty)
        {
            return -1;
        }

        if (!context.Headers.TryGetValue(AffinityHeaders.AffinityKey, out var key) || key.Length == 0)
        {
            _metrics.Decided(StrategyName, RouteReason.Fallback);
            return TwoChoices.Pick(candidates, context.Random);
        }

        var hash = HashMix.OfString(key);
        var routes = _routes.GetOrAdd(context.Endpoint, _newRoutes);
        int chosen;
        var skipped = false;
        lock (routes)
        {
            var load = routes.Known.Refresh(candidates, _time, _options.DropAfter, withMin: false);
            if (routes.Ring.Version != routes.Known.Version)
            {
                routes.Ring.Build(routes.Known, _options.VirtualNodes);
            }

            var capacity = LoadBound.Capacity(load.Total, candidates.Length, _options.LoadBound);
            chosen = Walk(routes, candidates, hash, capacity, ref skipped);
        }

        if (chosen < 0)
        {
            // Not reachable while the ring covers every candidate; kept so that a bug degrades to an ordinary pick.
            _metrics.Decided(StrategyName, RouteReason.Fallback);
            return TwoChoices.Pick(candidates, context.Random);
        }

        _metrics.Decided(StrategyName, skipped ? RouteReason.Skip : RouteReason.Hit);
        return chosen;
    }

    /// <summary>
    /// Walks clockwise from the key's point to the first candidate under the bound. Points of instances left out of this
    /// request's candidates are stepped over, which is exactly where the key would land had they left the ring.
    /// </summary>
    private static int Walk(Routes routes, ReadOnlySpan<RouteCandidate> candidates, ulong hash, long capacity, ref bool skipped)
    {
        var ring = routes.Ring;
        var start = ring.Find(hash);
        for (var step = 0; step < ring.Length; step++)
        {
            var position = routes.Known.CandidateOf(ring.SlotAt(start + step));
            if (position < 0)
            {
                continue;
            }

            if (candidates[position].InFlight < capacity)
            {
                return position;
            }

            skipped = true;
        }

        return -1;
    }

    /// <summary>How many points the ring of <paramref name="endpoint"/> has; for tests.</summary>
    internal int RingLength(EndpointAddress endpoint) => _routes.TryGetValue(endpoint, out var routes) ? routes.Ring.Length : 0;

    private sealed class Routes
    {
        public KnownInstances Known { get; } = new();

        public HashRing Ring { get; } = new();
    }
}
