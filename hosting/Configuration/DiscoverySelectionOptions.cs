namespace Plexus.Hosting.Configuration;

/// <summary><c>Plexus:Discovery</c>: where instances are registered and found.</summary>
internal sealed class DiscoverySelectionOptions
{
    /// <summary>The discovery provider's name (<c>Plexus:Discovery:Provider</c>).</summary>
    public string Provider { get; set; } = "memory";

    /// <summary>How long a registration lives without renewal (<c>Plexus:Discovery:LeaseTtl</c>).</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);
}
