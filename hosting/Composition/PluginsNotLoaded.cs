using Plexus.Hosting.Plugins;

namespace Plexus.Hosting.Composition;

/// <summary>
/// The plugins that were found but provide nothing: disabled by configuration, or failed (with their failure lines).
/// </summary>
internal sealed record PluginsNotLoaded(IReadOnlyList<string> Disabled, IReadOnlyList<string> Failed, IReadOnlyDictionary<string, string>? Errors = null)
{
    public static PluginsNotLoaded None { get; } = new([], []);

    /// <summary>Reads the catalog as it is now; a plugin can still fail when its components are first created.</summary>
    public static PluginsNotLoaded From(PluginCatalog catalog) => new(
        catalog.Plugins.Where(p => p.Status == PluginStatus.Disabled).Select(p => p.Name).ToArray(),
        catalog.Plugins.Where(p => p.Status == PluginStatus.Failed).Select(p => p.Name).ToArray(),
        catalog.Plugins.Where(p => p.Status == PluginStatus.Failed && p.Error is not null)
            .GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Error!, StringComparer.OrdinalIgnoreCase));

    /// <summary>Why the plugin named <paramref name="name"/> was refused, when it is in the folder and was.</summary>
    public string? FailureOf(string name) => Errors is not null && Errors.TryGetValue(name, out var error) ? error : null;
}
