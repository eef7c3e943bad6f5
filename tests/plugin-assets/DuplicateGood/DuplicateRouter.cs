namespace Plexus.Test.DuplicateGood;

internal sealed class DuplicateRouter : IRouterStrategy
{
    public string Name => "duplicate-good";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => 0;
}
