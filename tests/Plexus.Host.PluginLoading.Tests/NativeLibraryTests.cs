using Microsoft.Extensions.DependencyInjection;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

public sealed class NativeLibraryTests
{
    [Fact]
    public void A_plugin_calls_its_native_library_from_runtimes_rid_native()
    {
        Assert.True(OperatingSystem.IsLinux(), "the native test plugin is built for Linux");
        string expected = Path.Combine(TestPlugins.Folder("native"), "runtimes", "linux-x64", "native", "libplexusnative.so");
        Assert.True(File.Exists(expected));

        var loaded = TestPlugins.Load("native");
        using ServiceProvider provider = loaded.Build();
        IRouterStrategy router = Assert.Single(loaded.Catalog.Activate<IRouterStrategy>(provider));

        Assert.Equal("native-42", router.Name);

        // The library mapped into the process is the plugin's copy, not one found elsewhere.
        Assert.Contains(File.ReadLines("/proc/self/maps"), line => line.EndsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_rid_chain_goes_from_specific_to_portable()
    {
        Assert.True(OperatingSystem.IsLinux());
        IReadOnlyList<string> chain = NativeLibraryProbe.RuntimeIdentifiers;

        int rid = IndexOf(chain, "linux-x64");
        int linux = IndexOf(chain, "linux");
        int unix = IndexOf(chain, "unix");
        Assert.True(rid >= 0 && rid < linux && linux < unix, string.Join(", ", chain));
    }

    [Fact]
    public void Library_names_are_tried_with_and_without_prefix_and_suffix()
    {
        Assert.True(OperatingSystem.IsLinux());

        Assert.Equal(["libfoo.so", "foo.so", "foo"], NativeLibraryProbe.FileNames("foo"));
        Assert.Equal(["libfoo.so"], NativeLibraryProbe.FileNames("libfoo.so"));
        Assert.Equal(["foo.so.1", "libfoo.so.1"], NativeLibraryProbe.FileNames("foo.so.1"));
    }

    [Fact]
    public void The_probe_finds_a_library_in_the_plugin_folder_itself()
    {
        using var temp = new TempDirectory();
        string plugin = temp.Folder("p");
        File.WriteAllBytes(Path.Combine(plugin, "libbar.so"), [0]);

        Assert.Equal(Path.Combine(plugin, "libbar.so"), NativeLibraryProbe.Find(plugin, "bar"));
        Assert.Null(NativeLibraryProbe.Find(plugin, "baz"));
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}
