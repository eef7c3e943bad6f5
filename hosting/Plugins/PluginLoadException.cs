namespace Plexus.Hosting.Plugins;

/// <summary>
/// One or more required plugins failed. The message holds one line per failure; each line names the plugin, the
/// cause and the fix.
/// </summary>
internal sealed class PluginLoadException : Exception
{
    public PluginLoadException()
        : this([], null)
    {
    }

    public PluginLoadException(string message)
        : this([message], null)
    {
    }

    public PluginLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
        Lines = [message];
    }

    public PluginLoadException(IReadOnlyList<string> lines, PluginCatalog? catalog)
        : base(lines.Count == 0 ? "A required plugin failed." : string.Join(Environment.NewLine, lines))
    {
        Lines = lines;
        Catalog = catalog;
    }

    /// <summary>The failures of required plugins, one line each.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>Every plugin found, loaded or not, so a caller can still report them.</summary>
    public PluginCatalog? Catalog { get; }
}
