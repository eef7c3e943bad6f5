namespace Plexus;

/// <summary>What a router strategy may know about the request it routes.</summary>
/// <param name="Endpoint">The endpoint called.</param>
/// <param name="RequestId">The request id.</param>
/// <param name="TargetInstance">The instance the caller asked for, if any (used by the <c>direct</c> strategy).</param>
/// <param name="Random">The random source; strategies draw from it only, so that a seeded one makes them deterministic.</param>
public sealed record RouteContext(EndpointAddress Endpoint, string RequestId, InstanceId? TargetInstance, Random Random);
