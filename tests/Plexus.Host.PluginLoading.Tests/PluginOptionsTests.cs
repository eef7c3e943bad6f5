using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

public sealed class PluginOptionsTests
{
    [Fact]
    public void Disabled_plugin_is_listed_but_not_loaded()
    {
        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [TestPlugins.Folder("good")], Disabled = ["good"] });

        PluginInfo good = loaded["good"];
        Assert.Equal(PluginStatus.Disabled, good.Status);
        Assert.Null(good.Error);
        Assert.Null(good.Assembly);
        Assert.Equal("1.2.3", good.Version);
        Assert.DoesNotContain(loaded.Services, d => d.ServiceType.Assembly.GetName().Name == "Plexus.Test.GoodTransport");
    }

    [Fact]
    public void Disabling_one_folder_by_its_name_resolves_a_duplicate()
    {
        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [TestPlugins.Folder("good"), TestPlugins.Folder("good-copy")], Disabled = ["good-copy"] });

        Assert.Equal([PluginStatus.Loaded, PluginStatus.Disabled], loaded.Catalog.Plugins.Select(p => p.Status));
        Assert.Empty(loaded.Catalog.Failures);
    }

    [Fact]
    public void Required_and_disabled_at_once_is_a_required_failure()
    {
        var ex = Assert.Throws<PluginLoadException>(() => TestPlugins.Load(new PluginLoaderOptions { Paths = [TestPlugins.Folder("good")], Required = ["good"], Disabled = ["good"] }));

        FailureLine.Assert(Assert.Single(ex.Lines), "good", "both Plexus:Plugins:Required and Plexus:Plugins:Disabled");
    }

    [Fact]
    public void A_path_may_be_a_folder_of_plugin_folders()
    {
        using var temp = new TempDirectory();
        temp.Link("version-b");
        temp.Link("good");

        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [temp.Path] });

        Assert.Equal(["good", "version-b"], loaded.Catalog.Plugins.Select(p => p.Name));
        Assert.All(loaded.Catalog.Plugins, p => Assert.Equal(PluginStatus.Loaded, p.Status));
    }

    [Fact]
    public void Plugins_beside_the_executable_come_first_and_each_folder_once()
    {
        using var temp = new TempDirectory();
        string plugins = temp.Folder("plugins");
        Directory.CreateSymbolicLink(Path.Combine(plugins, "version-a"), TestPlugins.Folder("version-a"));

        var loaded = TestPlugins.Load(
            new PluginLoaderOptions { Paths = [TestPlugins.Folder("good"), Path.Combine(plugins, "version-a")] },
            baseDirectory: temp.Path);

        Assert.Equal(["version-a", "good"], loaded.Catalog.Plugins.Select(p => p.Name));
    }

    [Fact]
    public void A_missing_path_is_a_warning_not_a_failure()
    {
        string nowhere = Path.Combine(Path.GetTempPath(), "plexus-no-such-folder-" + Guid.NewGuid().ToString("N"));

        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [nowhere, TestPlugins.Folder("good")] });

        Assert.Equal("good", Assert.Single(loaded.Catalog.Plugins).Name);
        Assert.Contains(loaded.Logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(nowhere, StringComparison.Ordinal));
    }

    [Fact]
    public void AddPlexusPlugins_binds_Plexus_Plugins_and_registers_the_catalog()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:Plugins:Paths:0"] = TestPlugins.Folder("good"),
            ["Plexus:Plugins:Paths:1"] = TestPlugins.Folder("version-a"),
            ["Plexus:Plugins:Disabled:0"] = "version-a",
            ["Plexus:Plugins:Required:0"] = "good",
        }).Build();
        var services = new ServiceCollection();

        PluginCatalog catalog = services.AddPlexusPlugins(configuration, new ListLogger());

        Assert.Equal([PluginStatus.Loaded, PluginStatus.Disabled], catalog.Plugins.Select(p => p.Status));
        Assert.True(catalog.Find("good")!.Required);
        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Same(catalog, provider.GetRequiredService<PluginCatalog>());
        Assert.Equal(["good", "version-a"], provider.GetRequiredService<PluginLoaderOptions>().Paths.Select(Path.GetFileName));
    }

    [Fact]
    public void AddPlexusPlugins_throws_for_a_required_failure()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:Plugins:Paths:0"] = TestPlugins.Folder("incompatible"),
            ["Plexus:Plugins:Required:0"] = "incompatible",
        }).Build();

        var ex = Assert.Throws<PluginLoadException>(() => new ServiceCollection().AddPlexusPlugins(configuration, new ListLogger()));

        FailureLine.Assert(Assert.Single(ex.Lines), "incompatible", "major versions differ");
    }

    [Fact]
    public void The_catalog_writes_the_json_the_plugins_command_prints()
    {
        var loaded = TestPlugins.Load("good", "incompatible");
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
        {
            loaded.Catalog.WriteJson(writer);
        }

        using var json = System.Text.Json.JsonDocument.Parse(stream.ToArray());
        System.Text.Json.JsonElement[] items = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, items.Length);
        Assert.Equal("good", items[0].GetProperty("name").GetString());
        Assert.Equal("1.2.3", items[0].GetProperty("version").GetString());
        Assert.Equal(["transport", "codec", "router"], items[0].GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("2.7.0", items[0].GetProperty("abstractionsVersion").GetString());
        Assert.Equal("loaded", items[0].GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, items[0].GetProperty("error").ValueKind);
        Assert.Equal("failed", items[1].GetProperty("status").GetString());
        Assert.Equal("99.0.0", items[1].GetProperty("abstractionsVersion").GetString());
        Assert.Equal(loaded["incompatible"].Error, items[1].GetProperty("error").GetString());
    }
}
