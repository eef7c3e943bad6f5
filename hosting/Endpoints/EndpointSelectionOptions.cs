namespace Plexus.Hosting.Endpoints;

/// <summary>
/// <c>Plexus:Endpoints</c>: which endpoints of the loaded service plugins this node serves, and under which namespace.
/// Endpoints registered in code are served whatever these say.
/// </summary>
internal sealed class EndpointSelectionOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Endpoints";

    /// <summary>Patterns of the plugin endpoints to serve; empty serves them all.</summary>
    public IList<string> Include { get; init; } = new List<string>();

    /// <summary>Patterns of plugin endpoints not to serve, even when included.</summary>
    public IList<string> Exclude { get; init; } = new List<string>();

    /// <summary>Replaces the namespace of every plugin endpoint the node serves; null or empty keeps the declared one.</summary>
    public string? Namespace { get; set; }
}
