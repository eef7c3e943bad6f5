namespace Plexus;

/// <summary>A change to an endpoint's instances.</summary>
/// <param name="Kind">What changed.</param>
/// <param name="Instance">The instance as it is now (as it was, for a removal).</param>
public readonly record struct DiscoveryEvent(DiscoveryEventKind Kind, Instance Instance);
