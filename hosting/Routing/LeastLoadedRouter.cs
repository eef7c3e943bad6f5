namespace Plexus.Hosting.Routing;

/// <summary>
/// Takes the candidate with the lowest reported load, then the fewest requests in flight from this client; ties are
/// broken at random so equal instances share the traffic.
/// </summary>
internal sealed class LeastLoadedRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "least-loaded";

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (candidates.IsEmpty)
        {
            return -1;
        }

        var best = 0;
        var bestLoad = CandidateLoad.Of(candidates[0]);
        var bestInFlight = candidates[0].InFlight;
        var ties = 1;
        for (var i = 1; i < candidates.Length; i++)
        {
            var load = CandidateLoad.Of(candidates[i]);
            var inFlight = candidates[i].InFlight;
            if (load < bestLoad || (load == bestLoad && inFlight < bestInFlight))
            {
                best = i;
                bestLoad = load;
                bestInFlight = inFlight;
                ties = 1;
            }
            else if (load == bestLoad && inFlight == bestInFlight)
            {
                // Reservoir sampling: each of the k tied candidates ends up chosen with probability 1/k, in one pass.
                ties++;
                if (context.Random.Next(ties) == 0)
                {
                    best = i;
                }
            }
        }

        return best;
    }
}
