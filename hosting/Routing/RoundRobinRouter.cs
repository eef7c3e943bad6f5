using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Plexus.Hosting.Routing;

/// <summary>Sends each endpoint's requests to its candidates in turn.</summary>
internal sealed class RoundRobinRouter : IRouterStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "round-robin";

    // One counter per endpoint: a shared one would let a busy endpoint skew the turns of a quiet one.
    private readonly ConcurrentDictionary<EndpointAddress, StrongBox<int>> _counters = new();

    public string Name => StrategyName;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        if (candidates.IsEmpty)
        {
            return -1;
        }

        var counter = _counters.GetOrAdd(context.Endpoint, static _ => new StrongBox<int>(-1));

        // Incremented before use, so the first pick lands on index 0; unsigned so wrapping still gives a valid index.
        var ticket = (uint)Interlocked.Increment(ref counter.Value);
        return (int)(ticket % (uint)candidates.Length);
    }
}
