namespace Plexus.Hosting.Routing;

/// <summary>Sends a request only to the instance the caller named in <see cref="RouteContext.TargetInstance"/>.</summary>
internal sealed class DirectRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "direct";

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.TargetInstance is not { } target)
        {
            // Without a target there is nothing to be direct about; the request fails as unavailable.
            return -1;
        }

        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].Instance.Id == target)
            {
                return i;
            }
        }

        return -1;
    }
}
