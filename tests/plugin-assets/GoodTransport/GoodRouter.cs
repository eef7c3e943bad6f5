namespace Plexus.Test.GoodTransport;

internal sealed class GoodRouter : IRouterStrategy
{
    public string Name => "good-first";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => 0;
}
