namespace Plexus.Hosting.Plugins;

/// <summary>
/// One or more required plugins failed. The message holds one line per failure; each line names the plugin, the
/// cause and the fix.
/// </summary>
public sealed class PluginLoadException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public PluginLoadException()
        : this([], null)
    {
    }

    /// <summary>Creates the exception for one failure.</summary>
    /// <param name="message">The failure line.</param>
    public PluginLoadException(string message)
        : this([message], null)
    {
    }

    /// <summary>Creates the exception for one failure with its cause.</summary>
    /// <param name="message">The failure line.</param>
    /// <param name="innerException">The cause.</param>
    public PluginLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
        Lines = [message];
    }

    internal PluginLoadException(IReadOnlyList<string> lines, PluginCatalog? catalog)
        : base(lines.Count == 0 ? "A required plugin failed." : string.Join(Environment.NewLine, lines))
    {
        Lines = lines;
        Catalog = catalog;
    }

    /// <summary>The failures of required plugins, one line each.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>Every plugin found, loaded or not, so a caller can still report them.</summary>
    internal PluginCatalog? Catalog { get; }
}
