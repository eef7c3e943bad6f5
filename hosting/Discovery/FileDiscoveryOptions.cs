namespace Plexus.Hosting.Discovery;

/// <summary>Settings of the <c>file</c> discovery provider, bound from <c>Plexus:Discovery:File</c>.</summary>
internal sealed class FileDiscoveryOptions
{
    public const string SectionName = "Plexus:Discovery:File";

    /// <summary>The shared directory every process on the machine registers into and watches.</summary>
    public string Directory { get; set; } = Path.Combine(Path.GetTempPath(), "plexus", "discovery");

    /// <summary>How often watchers re-read an endpoint's directory.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);
}
