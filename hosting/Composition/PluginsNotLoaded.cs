using Plexus.Hosting.Plugins;

namespace Plexus.Hosting.Composition;

/// <summary>The names of the plugins that were found but provide nothing: disabled by configuration, or failed.</summary>
internal sealed record PluginsNotLoaded(IReadOnlyList<string> Disabled, IReadOnlyList<string> Failed)
{
    public static PluginsNotLoaded None { get; } = new([], []);

    /// <summary>Reads the catalog as it is now; a plugin can still fail when its components are first created.</summary>
    public static PluginsNotLoaded From(PluginCatalog catalog) => new(
        catalog.Plugins.Where(p => p.Status == PluginStatus.Disabled).Select(p => p.Name).ToArray(),
        catalog.Plugins.Where(p => p.Status == PluginStatus.Failed).Select(p => p.Name).ToArray());
}
