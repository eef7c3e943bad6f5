using System.Reflection;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

public sealed class PluginFailuresTests
{
    private static readonly PluginInfo Plugin = new("x", "/plugins/x");

    [Fact]
    public void A_missing_assembly_at_activation_names_the_dependency_and_its_version()
    {
        var missing = new FileNotFoundException("Could not load file or assembly.", "Foo.Bar, Version=2.1.0.0, Culture=neutral, PublicKeyToken=null");

        string line = PluginFailures.Line(Plugin, new TargetInvocationException(missing), null, "the constructor of X threw");

        Assert.Equal(
            "Plugin 'x' (/plugins/x): depends on Foo.Bar 2.1.0, which is not in its folder. Fix: " + PluginFailures.MissingDependencyFix + ".",
            line);
    }

    [Fact]
    public void A_plain_missing_file_is_the_plugins_own_failure()
    {
        var missing = new FileNotFoundException("settings.json was not found.", "/etc/x/settings.json");

        string line = PluginFailures.Line(Plugin, missing, null, "the constructor of X threw");

        FailureLine.Assert(line, "x", "the constructor of X threw FileNotFoundException: settings.json was not found");
    }

    [Fact]
    public void A_multi_line_message_still_makes_one_line()
    {
        string line = PluginFailures.Line(Plugin, new InvalidOperationException("first\nsecond\r\nthird."), null, "the constructor of X threw");

        FailureLine.Assert(line, "x", "InvalidOperationException: first second third");
    }

    [Fact]
    public void A_dependency_older_than_the_one_built_against_is_refused()
    {
        using var temp = new TempDirectory();
        string folder = temp.Folder("version-b-old");
        foreach (string file in Directory.GetFiles(TestPlugins.Folder("version-b")))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        File.Copy(Path.Combine(TestPlugins.Folder("version-a"), "Plexus.Test.SharedLib.dll"), Path.Combine(folder, "Plexus.Test.SharedLib.dll"), overwrite: true);

        PluginInfo plugin = Assert.Single(TestPlugins.Load(new PluginLoaderOptions { Paths = [folder] }).Catalog.Plugins);

        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "version-b", "depends on Plexus.Test.SharedLib 2.0.0, but its folder has 1.0.0");
    }

    [Fact]
    public void A_dependency_listed_in_the_manifest_but_absent_is_named()
    {
        using var temp = new TempDirectory();
        string folder = temp.Folder("version-a-incomplete");
        foreach (string file in Directory.GetFiles(TestPlugins.Folder("version-a")).Where(f => !f.Contains("SharedLib", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        PluginInfo plugin = Assert.Single(TestPlugins.Load(new PluginLoaderOptions { Paths = [folder] }).Catalog.Plugins);

        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "version-a", "depends on Plexus.Test.SharedLib 1.0.0, which is not in its folder");
    }
}
