using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Plexus.Router.Affinity;

/// <summary>
/// <c>prefix</c>: scores each candidate as <c>OverlapWeight × blocks of the request's prefix it holds −
/// LoadWeight × its requests in flight</c> and picks the best, among those under the load bound; ties are broken by
/// <see cref="RouteContext.Random"/>. What each instance holds comes from its published metadata
/// (<see cref="AffinityHeaders.PrefixBlocksMetadata"/>); requests without blocks go by power-of-two-choices.
/// </summary>
internal sealed class PrefixRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "prefix";

    private readonly ConcurrentDictionary<EndpointAddress, Routes> _routes = new();
    private readonly Func<EndpointAddress, Routes> _newRoutes;
    private readonly AffinityRouterOptions _options;
    private readonly RoutingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<PrefixRouter> _logger;

    public PrefixRouter(IOptions<AffinityRouterOptions> options, RoutingMetrics metrics, TimeProvider time, ILogger<PrefixRouter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _newRoutes = _ => new Routes(_metrics, _options.MaxRequestBlocks);
    }

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (candidates.IsEmpty)
        {
            return -1;
        }

        var routes = _routes.GetOrAdd(context.Endpoint, _newRoutes);
        int chosen;
        string reason;
        lock (routes)
        {
            // The index follows the candidates' metadata on every pick, with or without blocks, so that it is current
            // when a request with blocks comes.
            var total = Refresh(routes, candidates, context.Endpoint);
            var count = context.Headers.TryGetValue(AffinityHeaders.PrefixBlocks, out var text)
                ? PrefixBlocks.Parse(text, routes.Blocks, out _)
                : 0;
            if (count == 0)
            {
                chosen = -1;
                reason = RouteReason.Fallback;
            }
            else
            {
                var capacity = LoadBound.Capacity(total, candidates.Length, _options.LoadBound);
                var maxOverlap = Match(routes, routes.Blocks.AsSpan(0, count), candidates.Length);
                chosen = Choose(routes, candidates, capacity, context.Random);
                var overlap = routes.Overlap[chosen];
                reason = maxOverlap == 0 ? RouteReason.Miss : overlap == maxOverlap ? RouteReason.Hit : RouteReason.Skip;
                foreach (var position in routes.Touched)
                {
                    routes.Overlap[position] = 0;
                }
            }
        }

        _metrics.Decided(StrategyName, reason);
        return chosen >= 0 ? chosen : TwoChoices.Pick(candidates, context.Random);
    }

    private long Refresh(Routes routes, ReadOnlySpan<RouteCandidate> candidates, EndpointAddress endpoint)
    {
        var known = routes.Known;
        var total = known.Refresh(candidates, _time, _options.DropAfter);
        foreach (var slot in known.Dropped)
        {
            routes.Index.Drop(slot);
            AffinityLog.InstanceDropped(_logger, known.IdOf(slot), endpoint, _options.DropAfter);
        }

        foreach (var position in known.Changed)
        {
            var instance = candidates[position].Instance;
            if (!routes.Index.Update(known.SlotOf(position), instance.Metadata))
            {
                AffinityLog.MalformedBlocks(_logger, instance.Id, endpoint);
            }
        }

        if (routes.Overlap.Length < candidates.Length)
        {
            routes.Overlap = new int[Math.Max(candidates.Length, routes.Overlap.Length * 2)];
        }

        return total;
    }

    /// <summary>
    /// Sets <see cref="Routes.Overlap"/> for every candidate holding the first block: how many blocks from the start of
    /// the request it holds without a gap. Returns the largest overlap.
    /// </summary>
    private static int Match(Routes routes, ReadOnlySpan<ulong> blocks, int candidates)
    {
        routes.Touched.Clear();
        if (routes.Index.HoldersOf(blocks[0]) is not { } first)
        {
            return 0;
        }

        if (routes.Active.Length < first.Count)
        {
            routes.Active = new int[Math.Max(first.Count, routes.Active.Length * 2)];
        }

        var active = routes.Active;
        var live = 0;
        foreach (var slot in first)
        {
            var position = routes.Known.CandidateOf(slot);
            if (position >= 0 && position < candidates)
            {
                active[live++] = slot;
                routes.Overlap[position] = 1;
                routes.Touched.Add(position);
            }
        }

        var overlap = live > 0 ? 1 : 0;
        for (var j = 1; j < blocks.Length && live > 0; j++)
        {
            var kept = 0;
            for (var a = 0; a < live; a++)
            {
                var slot = active[a];
                if (routes.Index.Holds(slot, blocks[j]))
                {
                    routes.Overlap[routes.Known.CandidateOf(slot)] = j + 1;
                    active[kept++] = slot;
                }
            }

            live = kept;
            if (live > 0)
            {
                overlap = j + 1;
            }
        }

        return overlap;
    }

    /// <summary>The best score under the bound; among equal scores, the one <paramref name="random"/> draws.</summary>
    private int Choose(Routes routes, ReadOnlySpan<RouteCandidate> candidates, long capacity, Random random)
    {
        var overlap = routes.Overlap;
        double wOverlap = _options.OverlapWeight, wLoad = _options.LoadWeight;
        var best = double.NegativeInfinity;
        var ties = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            var inFlight = candidates[i].InFlight;
            if (inFlight >= capacity)
            {
                continue;
            }

            var score = (wOverlap * overlap[i]) - (wLoad * inFlight);
            if (score > best)
            {
                best = score;
                ties = 1;
            }
            else if (score == best)
            {
                ties++;
            }
        }

        // One draw, only when there is a tie: the same seed gives the same choice, and a pick stays cheap.
        var wanted = ties > 1 ? random.Next(ties) : 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            var inFlight = candidates[i].InFlight;
            if (inFlight < capacity && (wOverlap * overlap[i]) - (wLoad * inFlight) == best && wanted-- == 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Distinct blocks indexed for <paramref name="endpoint"/>; for tests.</summary>
    internal int IndexBlocks(EndpointAddress endpoint) => _routes.TryGetValue(endpoint, out var routes) ? routes.Index.Blocks : 0;

    /// <summary>Whether the index still has <paramref name="instance"/> of <paramref name="endpoint"/>; for tests.</summary>
    internal bool Indexes(EndpointAddress endpoint, InstanceId instance)
    {
        if (!_routes.TryGetValue(endpoint, out var routes))
        {
            return false;
        }

        for (var slot = 0; slot < routes.Known.SlotLimit; slot++)
        {
            if (routes.Known.InUse(slot) && routes.Known.IdOf(slot) == instance && routes.Index.BlocksOf(slot) > 0)
            {
                return true;
            }
        }

        return false;
    }

    private sealed class Routes(RoutingMetrics metrics, int maxBlocks)
    {
        public KnownInstances Known { get; } = new();

        public PrefixIndex Index { get; } = new(metrics);

        public ulong[] Blocks { get; } = new ulong[maxBlocks];

        public int[] Overlap { get; set; } = new int[16];

        public int[] Active { get; set; } = new int[16];

        public List<int> Touched { get; } = [];
    }
}
