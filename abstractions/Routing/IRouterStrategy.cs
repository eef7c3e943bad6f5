namespace Plexus;

/// <summary>
/// Picks the instance a request goes to. The request plane has already dropped busy and unhealthy instances;
/// a strategy only chooses among the candidates it is given. Strategies are named and chosen by
/// <c>Plexus:Router:Strategy</c>.
/// </summary>
public interface IRouterStrategy
{
    /// <summary>The strategy's name, such as <c>round-robin</c>.</summary>
    string Name { get; }

    /// <summary>Picks one candidate.</summary>
    /// <param name="candidates">The instances that may take the request, never empty.</param>
    /// <param name="context">The request being routed, and the random source to use.</param>
    /// <returns>The index of the chosen candidate, or -1 when none fits (the request then fails as unavailable).</returns>
    int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context);
}
