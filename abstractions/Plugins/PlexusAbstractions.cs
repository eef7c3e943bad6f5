namespace Plexus;

/// <summary>Facts about this contracts assembly.</summary>
public static class PlexusAbstractions
{
    /// <summary>The version of the contracts; a plugin built against another major version is refused.</summary>
    public static Version Version { get; } = typeof(PlexusAbstractions).Assembly.GetName().Version ?? new Version(1, 0);
}
