namespace Plexus.Hosting.Routing;

/// <summary>
/// Draws two distinct random candidates and takes the one with fewer requests in flight from this client, then the
/// lower reported load. Close to least-loaded in effect, without every client herding onto the same instance.
/// </summary>
internal sealed class PowerOfTwoChoicesRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "power-of-two";

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (candidates.Length <= 1)
        {
            return candidates.IsEmpty ? -1 : 0;
        }

        var first = context.Random.Next(candidates.Length);

        // Drawn from the other n-1 indices and shifted past the first, so the two are distinct in one draw.
        var second = context.Random.Next(candidates.Length - 1);
        if (second >= first)
        {
            second++;
        }

        var a = candidates[first];
        var b = candidates[second];
        if (a.InFlight != b.InFlight)
        {
            return a.InFlight < b.InFlight ? first : second;
        }

        // On a full tie the first draw wins; it was random already.
        return CandidateLoad.Of(b) < CandidateLoad.Of(a) ? second : first;
    }
}
