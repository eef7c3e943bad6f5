namespace Plexus.Router.Affinity;

/// <summary>
/// Power-of-two-choices for requests that carry no key: two distinct random candidates, the one with fewer requests in
/// flight, then the lower reported load. The plugin has its own because the host's strategy is internal to it.
/// </summary>
internal static class TwoChoices
{
    public static int Pick(ReadOnlySpan<RouteCandidate> candidates, Random random)
    {
        if (candidates.Length <= 1)
        {
            return candidates.IsEmpty ? -1 : 0;
        }

        var first = random.Next(candidates.Length);

        // Drawn from the other n-1 indices and shifted past the first, so that the two are distinct in one draw.
        var second = random.Next(candidates.Length - 1);
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

        return LoadOf(b) < LoadOf(a) ? second : first;
    }

    // A peer may report "NaN"; treated as the highest so that such a candidate is never preferred.
    private static double LoadOf(in RouteCandidate candidate) => double.IsNaN(candidate.Load) ? double.PositiveInfinity : candidate.Load;
}
