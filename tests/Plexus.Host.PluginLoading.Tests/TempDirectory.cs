namespace Plexus.Host.PluginLoading.Tests;

/// <summary>A scratch folder removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "plexus-plugin-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Creates a subfolder.</summary>
    public string Folder(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    /// <summary>Links a built test plugin into this folder under <paramref name="as"/> (its own name by default).</summary>
    public string Link(string testPlugin, string? @as = null)
    {
        string link = System.IO.Path.Combine(Path, @as ?? testPlugin);
        Directory.CreateSymbolicLink(link, TestPlugins.Folder(testPlugin));
        return link;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A scratch folder left behind in /tmp is harmless.
        }
    }
}
