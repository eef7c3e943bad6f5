namespace Plexus.Hosting.Plugins;

/// <summary>Which plugins the host loads, bound from <c>Plexus:Plugins</c>.</summary>
internal sealed class PluginLoaderOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Plugins";

    /// <summary>
    /// Extra folders searched besides <c>plugins/</c> next to the executable. Each is either one plugin folder
    /// (it holds a <c>*.dll</c> or <c>*.deps.json</c> directly) or a folder of plugin folders. Relative paths are
    /// taken from the current directory, like the host's content root.
    /// </summary>
    public IList<string> Paths { get; init; } = new List<string>();

    /// <summary>Plugin names that must load; if one fails, the host stops.</summary>
    public IList<string> Required { get; init; } = new List<string>();

    /// <summary>Plugin names (or plugin folder names) that are not loaded at all.</summary>
    public IList<string> Disabled { get; init; } = new List<string>();
}
