namespace Plexus.Hosting.Routing;

/// <summary>Reads a candidate's reported load in a form that orders safely.</summary>
internal static class CandidateLoad
{
    /// <summary>
    /// The candidate's load, with NaN (a peer may report "NaN") treated as the highest so that comparisons stay a
    /// total order and such a candidate is never preferred.
    /// </summary>
    public static double Of(in RouteCandidate candidate)
    {
        var load = candidate.Load;
        return double.IsNaN(load) ? double.PositiveInfinity : load;
    }
}
