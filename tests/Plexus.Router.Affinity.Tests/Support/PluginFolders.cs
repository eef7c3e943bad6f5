using Plexus.Host.Tests.Support;

namespace Plexus.Router.Affinity.Tests.Support;

/// <summary>The host's stock plugin folders and this project's test plugins.</summary>
internal static class PluginFolders
{
    public static string Host(string name) => Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "plugins", name);

    public static string Test(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "test-plugins", name);
        Assert.True(Directory.Exists(folder), $"test plugin folder {folder} is missing; build the test project");
        return folder;
    }
}
