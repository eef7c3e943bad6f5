namespace Plexus.Abstractions.Tests.Toys;

/// <summary>Takes the first candidate with nothing in flight; when all are busy, a random one.</summary>
internal sealed class FirstIdleRouter : IRouterStrategy
{
    public string Name => "first-idle";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].InFlight == 0)
            {
                return i;
            }
        }

        return candidates.IsEmpty ? -1 : context.Random.Next(candidates.Length);
    }
}
