namespace Plexus;

/// <summary>How a transport's server or client is doing.</summary>
/// <param name="Status">The status.</param>
/// <param name="Description">Why, in a sentence a person can act on; empty when healthy.</param>
public readonly record struct TransportHealth(HealthStatus Status, string Description)
{
    /// <summary>A healthy report.</summary>
    public static TransportHealth Healthy { get; } = new(HealthStatus.Healthy, string.Empty);
}
