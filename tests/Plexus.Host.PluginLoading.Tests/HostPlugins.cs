using Plexus.Host.Tests.Support;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>The stock plugins the host's build copies to plugins/&lt;name&gt;/ beside it.</summary>
internal static class HostPlugins
{
    public static string Root => Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "plugins");

    public static string Folder(string name)
    {
        string folder = Path.Combine(Root, name);
        Assert.True(Directory.Exists(folder), $"the host's plugin folder {folder} is missing; build Plugins.sln");
        return folder;
    }
}
