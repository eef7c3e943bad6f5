using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

public sealed class PluginFailureTests
{
    [Fact]
    public void Missing_dependency_is_refused_before_loading_and_others_still_load()
    {
        var loaded = TestPlugins.Load("missing-dependency", "good");

        PluginInfo plugin = loaded["missing-dependency"];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "missing-dependency", TestPlugins.Folder("missing-dependency"), "depends on Plexus.Test.MissingLib 2.1.0, which is not in its folder");
        Assert.Contains("publish the plugin with its dependencies", plugin.Error!, StringComparison.Ordinal);
        Assert.False(TestPlugins.IsLoadedAnywhere("Plexus.Test.MissingDependency"));
        Assert.Equal(PluginStatus.Loaded, loaded["good"].Status);
        Assert.Contains(loaded.Logger.Entries, e => e.Level == LogLevel.Warning && e.Message == plugin.Error);
    }

    [Fact]
    public void A_plugin_built_against_the_previous_major_version_is_refused_with_one_line()
    {
        var loaded = TestPlugins.Load("previous-major", "good");

        PluginInfo plugin = loaded["previous-major"];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        Assert.Equal(new Version(1, 0, 0, 0), plugin.AbstractionsVersion);
        FailureLine.Assert(plugin.Error, "previous-major", "Plexus.Abstractions 1.0.0", "this host has 2.7.0", "major versions differ");
        Assert.Contains("rebuild the plugin against Plexus.Abstractions 2.x", plugin.Error!, StringComparison.Ordinal);
        Assert.False(TestPlugins.IsLoadedAnywhere("Plexus.Test.PreviousMajor"));
        Assert.Equal(PluginStatus.Loaded, loaded["good"].Status);
    }

    [Fact]
    public void Incompatible_abstractions_major_version_is_refused_without_loading()
    {
        var loaded = TestPlugins.Load("incompatible", "good");

        PluginInfo plugin = loaded["incompatible"];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        Assert.Equal(new Version(99, 0, 0, 0), plugin.AbstractionsVersion);
        FailureLine.Assert(plugin.Error, "incompatible", "Plexus.Abstractions 99.0.0", "this host has 2.7.0", "major versions differ");
        Assert.Contains("rebuild the plugin against Plexus.Abstractions 2.x", plugin.Error!, StringComparison.Ordinal);
        Assert.False(TestPlugins.IsLoadedAnywhere("Plexus.Test.Incompatible"));
        Assert.Equal(PluginStatus.Loaded, loaded["good"].Status);
    }

    [Fact]
    public void Throwing_component_constructor_fails_its_plugin_at_activation_only()
    {
        var loaded = TestPlugins.Load("throwing", "good");
        Assert.Equal(PluginStatus.Loaded, loaded["throwing"].Status);
        using ServiceProvider provider = loaded.Build();

        IReadOnlyList<ITransportFactory> factories = loaded.Catalog.Activate<ITransportFactory>(provider);

        Assert.Equal("good", Assert.Single(factories).Name);
        PluginInfo plugin = loaded["throwing"];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "throwing", "constructor of Plexus.Test.ThrowingComponent.ThrowingTransportFactory threw InvalidOperationException: The throwing transport refuses to start");
        Assert.Contains(loaded.Logger.Entries, e => e.Level == LogLevel.Warning && e.Message == plugin.Error);

        // A failed plugin is not tried again.
        Assert.Single(loaded.Catalog.Activate<ITransportFactory>(provider));
    }

    [Fact]
    public void Required_plugin_with_a_throwing_component_makes_activation_throw()
    {
        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [TestPlugins.Folder("throwing"), TestPlugins.Folder("good")], Required = ["throwing"] });
        using ServiceProvider provider = loaded.Build();

        var ex = Assert.Throws<PluginLoadException>(() => loaded.Catalog.Activate<ITransportFactory>(provider));

        string line = Assert.Single(ex.Lines);
        FailureLine.Assert(line, "throwing", "threw InvalidOperationException");
        Assert.Equal(line, ex.Message);
        Assert.Equal(line, loaded["throwing"].Error);
        Assert.True(loaded["throwing"].Required);
    }

    [Fact]
    public void Throwing_entry_constructor_fails_the_plugin_and_undoes_its_registrations()
    {
        var loaded = TestPlugins.Load("throwing-entry", "good");

        PluginInfo plugin = loaded["throwing-entry"];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "throwing-entry", "constructor of its entry Plexus.Test.ThrowingEntry.ThrowingEntryPlugin threw InvalidOperationException: The entry cannot start");
        Assert.DoesNotContain(loaded.Services, d => d.ServiceType.FullName == "Plexus.Test.ThrowingEntry.ThrowingEntryRouter");
        Assert.Empty(plugin.Kinds);
        Assert.Equal(PluginStatus.Loaded, loaded["good"].Status);
    }

    [Fact]
    public void Required_failure_at_load_throws_with_the_line_and_the_catalog()
    {
        var ex = Assert.Throws<PluginLoadException>(() => TestPlugins.Load(new PluginLoaderOptions
        {
            Paths = [TestPlugins.Folder("throwing-entry"), TestPlugins.Folder("good")],
            Required = ["throwing-entry"],
        }));

        string line = Assert.Single(ex.Lines);
        FailureLine.Assert(line, "throwing-entry", "The entry cannot start");
        Assert.NotNull(ex.Catalog);
        Assert.Equal(PluginStatus.Loaded, ex.Catalog.Find("good")!.Status);
    }

    [Fact]
    public void Every_required_failure_is_listed()
    {
        var ex = Assert.Throws<PluginLoadException>(() => TestPlugins.Load(new PluginLoaderOptions
        {
            Paths = [TestPlugins.Folder("throwing-entry"), TestPlugins.Folder("incompatible"), TestPlugins.Folder("missing-dependency")],
            Required = ["throwing-entry", "incompatible"],
        }));

        Assert.Equal(2, ex.Lines.Count);
        FailureLine.Assert(ex.Lines[0], "throwing-entry");
        FailureLine.Assert(ex.Lines[1], "incompatible", "major versions differ");
        Assert.Equal(ex.Lines, ex.Message.Split(Environment.NewLine));
    }

    [Fact]
    public void Duplicate_name_refuses_the_second_plugin_naming_both_folders()
    {
        var loaded = TestPlugins.Load("good", "good-copy");

        Assert.Equal(2, loaded.Catalog.Plugins.Count);
        PluginInfo first = loaded.Catalog.Plugins[0];
        PluginInfo second = loaded.Catalog.Plugins[1];
        Assert.Equal(PluginStatus.Loaded, first.Status);
        Assert.Equal("good", second.Name);
        Assert.Equal(PluginStatus.Failed, second.Status);
        FailureLine.Assert(second.Error, "good", TestPlugins.Folder("good-copy"), $"already found in {TestPlugins.Folder("good")}");
        Assert.False(TestPlugins.IsLoadedAnywhere("Plexus.Test.DuplicateGood"));
    }

    [Fact]
    public void Empty_dll_is_refused()
    {
        using var temp = new TempDirectory();
        string folder = temp.Folder("empty");
        File.WriteAllBytes(Path.Combine(folder, "Empty.dll"), []);

        PluginInfo plugin = Assert.Single(TestPlugins.Load(new PluginLoaderOptions { Paths = [folder] }).Catalog.Plugins);

        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "empty", folder, "Empty.dll is not a valid .NET assembly", "empty");
        Assert.Contains("rebuild and republish the plugin", plugin.Error!, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_dll_with_a_manifest_is_refused()
    {
        using var temp = new TempDirectory();
        string folder = temp.Folder("corrupt");
        byte[] noise = new byte[4096];
        new Random(7).NextBytes(noise);
        File.WriteAllBytes(Path.Combine(folder, "Corrupt.dll"), noise);
        File.Copy(
            Path.Combine(TestPlugins.Folder("good"), "Plexus.Test.GoodTransport.deps.json"),
            Path.Combine(folder, "Corrupt.deps.json"));

        PluginInfo plugin = Assert.Single(TestPlugins.Load(new PluginLoaderOptions { Paths = [folder] }).Catalog.Plugins);

        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "corrupt", "Corrupt.dll is not a valid .NET assembly");
    }

    [Fact]
    public void Corrupt_dependency_is_refused_before_loading()
    {
        using var temp = new TempDirectory();
        string folder = temp.Folder("version-a-broken");
        foreach (string file in Directory.GetFiles(TestPlugins.Folder("version-a")))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        File.WriteAllBytes(Path.Combine(folder, "Plexus.Test.SharedLib.dll"), [0x4D, 0x5A, 1, 2, 3]);

        PluginInfo plugin = Assert.Single(TestPlugins.Load(new PluginLoaderOptions { Paths = [folder] }).Catalog.Plugins);

        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "version-a", "its dependency Plexus.Test.SharedLib.dll is not a valid .NET assembly");
    }

    [Fact]
    public void Folder_without_an_assembly_is_refused()
    {
        using var temp = new TempDirectory();
        string folder = temp.Folder("nothing");
        File.WriteAllText(Path.Combine(folder, "README.txt"), "not a plugin");
        string library = temp.Folder("library-only");
        File.WriteAllBytes(Path.Combine(library, "Helper.dll"), File.ReadAllBytes(Path.Combine(TestPlugins.Folder("version-a"), "Plexus.Test.SharedLib.dll")));

        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [temp.Path] });

        FailureLine.Assert(loaded["nothing"].Error, "nothing", "no plugin assembly");
        FailureLine.Assert(loaded["library-only"].Error, "library-only", "no plugin assembly", "none is marked [assembly: PlexusPlugin]");
    }

    [Fact]
    public void Missing_native_library_fails_the_plugin_at_activation()
    {
        var loaded = TestPlugins.Load("missing-native", "native");
        using ServiceProvider provider = loaded.Build();

        IReadOnlyList<IRouterStrategy> routers = loaded.Catalog.Activate<IRouterStrategy>(provider);

        Assert.Equal("native-42", Assert.Single(routers).Name);
        PluginInfo plugin = loaded["missing-native"];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, "missing-native", "native library 'plexus_absent_native'", "runtimes/", "system library path");
        Assert.Contains("libplexus_absent_native.so", plugin.Error!, StringComparison.Ordinal);
    }

    [Fact]
    public void Required_plugin_no_folder_provides_is_a_failure()
    {
        var ex = Assert.Throws<PluginLoadException>(() => TestPlugins.Load(new PluginLoaderOptions { Paths = [TestPlugins.Folder("good")], Required = ["ghost"] }));

        string line = Assert.Single(ex.Lines);
        FailureLine.Assert(line, "ghost", "is required", "no plugin folder provides it");
        Assert.Contains("Plexus:Plugins:Paths", line, StringComparison.Ordinal);
        Assert.Null(ex.Catalog!.Find("ghost")!.Folder);
    }

    [Fact]
    public void Optional_failures_do_not_throw_and_are_logged_as_warnings()
    {
        var loaded = TestPlugins.Load("good", "incompatible", "missing-dependency", "throwing-entry", "good-copy", "version-a");

        string[] warnings = loaded.Logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToArray();
        Assert.Equal(loaded.Catalog.Failures, warnings);
        Assert.Equal(4, warnings.Length);
        Assert.Equal(2, loaded.Catalog.Plugins.Count(p => p.Status == PluginStatus.Loaded));
    }
}
