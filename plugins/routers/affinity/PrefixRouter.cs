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
            var load = Refresh(routes, candidates, context.Endpoint);
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
                var capacity = LoadBound.Capacity(load.Total, candidates.Length, _options.LoadBound);
                var maxOverlap = Match(routes, routes.Blocks.AsSpan(0, count), candidates.Length);
                chosen = Choose(routes, candidates, load, capacity, context.Random);
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

    private LoadSummary Refresh(Routes routes, ReadOnlySpan<RouteCandidate> candidates, EndpointAddress endpoint)
    {
        var known = routes.Known;
        var load = known.Refresh(candidates, _time, _options.DropAfter);
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

        return load;
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

        // One map lookup per block, then the few holders still in the running checked against that block's holders:
        // cheaper than asking each holder's own set, and it stops at the first block nobody left holds.
        var overlap = live > 0 ? 1 : 0;
        for (var j = 1; j < blocks.Length && live > 0; j++)
        {
            if (routes.Index.HoldersOf(blocks[j]) is not { } holders)
            {
                break;
            }

            // A block many instances hold (a shared system prompt) is checked in each holder's set instead.
            var few = holders.Count <= 8;
            var kept = 0;
            for (var a = 0; a < live; a++)
            {
                var slot = active[a];
                if (few ? holders.Contains(slot) : routes.Index.Holds(slot, blocks[j]))
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

    /// <summary>
    /// The best score under the bound; among equal scores, the one <paramref name="random"/> draws (one draw, and only
    /// when there is a tie, so that the same seed gives the same choice). Every candidate that holds no block scores
    /// <c>−LoadWeight × in flight</c>, so the best of them are those at the smallest count, which the refresh already
    /// counted: only the holders are scored one by one, and the candidate list is walked at most once more, to find
    /// the drawn one among the least loaded.
    /// </summary>
    private int Choose(Routes routes, ReadOnlySpan<RouteCandidate> candidates, LoadSummary load, long capacity, Random random)
    {
        var overlap = routes.Overlap;
        var bestHolder = double.NegativeInfinity;
        int holderTies = 0, holdersAtMin = 0;
        foreach (var position in routes.Touched)
        {
            var inFlight = candidates[position].InFlight;
            if (inFlight == load.Min)
            {
                holdersAtMin++;
            }

            if (inFlight >= capacity)
            {
                continue;
            }

            var score = Score(overlap[position], inFlight);
            if (score > bestHolder)
            {
                bestHolder = score;
                holderTies = 1;
            }
            else if (score == bestHolder)
            {
                holderTies++;
            }
        }

        // The least loaded are all holders: the best of the others is somewhere above the minimum; score them all.
        var others = load.AtMin - holdersAtMin;
        if (others == 0)
        {
            return ChooseByScan(overlap, candidates, capacity, random);
        }

        var otherScore = Score(0, load.Min);
        var ties = bestHolder > otherScore ? holderTies : bestHolder < otherScore ? others : holderTies + others;
        var wanted = ties > 1 ? random.Next(ties) : 0;
        if (bestHolder >= otherScore)
        {
            if (wanted < holderTies)
            {
                foreach (var position in routes.Touched)
                {
                    var inFlight = candidates[position].InFlight;
                    if (inFlight < capacity && Score(overlap[position], inFlight) == bestHolder && wanted-- == 0)
                    {
                        return position;
                    }
                }
            }

            wanted -= holderTies;
        }

        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].InFlight == load.Min && overlap[i] == 0 && wanted-- == 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Scores every candidate: the general case, when no candidate without blocks is among the least loaded.</summary>
    private int ChooseByScan(int[] overlap, ReadOnlySpan<RouteCandidate> candidates, long capacity, Random random)
    {
        var best = double.NegativeInfinity;
        var ties = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            var inFlight = candidates[i].InFlight;
            if (inFlight >= capacity)
            {
                continue;
            }

            var score = Score(overlap[i], inFlight);
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

        var wanted = ties > 1 ? random.Next(ties) : 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            var inFlight = candidates[i].InFlight;
            if (inFlight < capacity && Score(overlap[i], inFlight) == best && wanted-- == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private double Score(int overlap, int inFlight) => (_options.OverlapWeight * overlap) - (_options.LoadWeight * inFlight);

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
