namespace Plexus.Test.ThrowingEntry;

// Scanned before the entry runs; must not stay registered once the entry fails.
internal sealed class ThrowingEntryRouter : IRouterStrategy
{
    public string Name => "throwing-entry";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => 0;
}
