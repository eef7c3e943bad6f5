namespace Plexus.Hosting.Configuration;

/// <summary>The <c>Plexus</c> configuration section: which implementations compose the request plane.</summary>
internal sealed class PlexusOptions
{
    public const string SectionName = "Plexus";

    /// <summary>This process's node id; a random one when empty.</summary>
    public string? NodeId { get; set; }

    public RequestPlaneOptions RequestPlane { get; set; } = new();

    public DiscoverySelectionOptions Discovery { get; set; } = new();

    public RouterOptions Router { get; set; } = new();

    public ServerOptions Server { get; set; } = new();

    public BulkOptions Bulk { get; set; } = new();
}
