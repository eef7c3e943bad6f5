namespace Plexus;

/// <summary>What a router strategy may know about the request it routes.</summary>
/// <param name="Endpoint">The endpoint called.</param>
/// <param name="RequestId">The request id.</param>
/// <param name="TargetInstance">The instance the caller asked for, if any (used by the <c>direct</c> strategy).</param>
/// <param name="Random">The random source; strategies draw from it only, so that a seeded one makes them deterministic.</param>
public sealed record RouteContext(EndpointAddress Endpoint, string RequestId, InstanceId? TargetInstance, Random Random)
{
    /// <summary>
    /// The request's headers, read-only, as the caller set them (with the trace context when tracing), so that a
    /// strategy can route by a key such as <c>plexus-affinity-key</c> without parsing the payload. Empty when the
    /// request has none. The request plane passes the request's own map: a strategy must not keep it beyond
    /// <see cref="IRouterStrategy.Pick"/>. Since abstractions 2.7.
    /// </summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = Instance.EmptyMetadata;
}
