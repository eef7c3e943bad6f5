namespace Plexus.Benchmarks;

/// <summary>The floor for router picks: a strategy that takes the first candidate, called through the same interface.</summary>
internal sealed class FirstCandidateRouter : IRouterStrategy
{
    public string Name => "first";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => candidates.IsEmpty ? -1 : 0;
}
