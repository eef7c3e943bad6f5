namespace Plexus.Host.Routing;

/// <summary>Sends requests to the candidates in turn.</summary>
internal sealed class RoundRobinRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "round-robin";

    // Incremented before use, so the first pick lands on index 0.
    private int _counter = -1;

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        if (candidates.IsEmpty)
        {
            return -1;
        }

        // Unsigned so the counter wrapping past int.MaxValue still gives a valid index.
        var ticket = (uint)Interlocked.Increment(ref _counter);
        return (int)(ticket % (uint)candidates.Length);
    }
}
