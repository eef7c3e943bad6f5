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

    /// <summary>Copies a built test plugin's folder into <paramref name="into"/> (this folder by default), as an
    /// operator drops a plugin in place.</summary>
    public string Copy(string testPlugin, string? into = null)
    {
        string source = TestPlugins.Folder(testPlugin);
        string target = Directory.CreateDirectory(System.IO.Path.Combine(into ?? Path, testPlugin)).FullName;
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            string to = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
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
