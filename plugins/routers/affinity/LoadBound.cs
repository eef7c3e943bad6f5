namespace Plexus.Router.Affinity;

/// <summary>The bounded-load rule of consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam).</summary>
internal static class LoadBound
{
    /// <summary>
    /// The in-flight count at which an instance is full for the next request: ⌈(1 + ε) × (total + 1) / n⌉, where total
    /// counts the requests in flight to all candidates and the +1 is the request being placed. Because the total is below
    /// n times this, at least one candidate is always under it, so a walk along the ring always ends.
    /// </summary>
    public static long Capacity(long totalInFlight, int candidates, double epsilon) =>
        (long)Math.Ceiling((1 + epsilon) * (totalInFlight + 1) / candidates);
}
