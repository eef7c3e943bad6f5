namespace Plexus.Hosting.Routing;

/// <summary>Sends each request to a uniformly random candidate.</summary>
internal sealed class RandomRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "random";

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return candidates.IsEmpty ? -1 : context.Random.Next(candidates.Length);
    }
}
