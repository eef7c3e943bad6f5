using Microsoft.Extensions.DependencyInjection;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>
/// The compatibility policy of docs/plugins.md, one case each: the major version must match, a plugin's minor may not
/// exceed the host's, the patch never matters. The plugins are built against the real contracts compiled under
/// other version numbers (tests/plugin-assets/libs/AbstractionsAt), as an author would get them from a package.
/// </summary>
public sealed class ContractsVersionPolicyTests
{
    [Fact]
    public void The_host_is_2_6_0_as_the_cases_below_assume()
    {
        Assert.Equal(new Version(2, 7, 0, 0), PlexusAbstractions.Version);
    }

    [Fact]
    public void A_newer_patch_loads_and_its_components_run_on_the_host_contracts()
    {
        var loaded = TestPlugins.Load("newer-patch");

        PluginInfo plugin = loaded["newer-patch"];
        Assert.Equal(PluginStatus.Loaded, plugin.Status);
        Assert.Equal(new Version(2, 7, 7, 0), plugin.AbstractionsVersion);
        using ServiceProvider provider = loaded.Build();
        IRouterStrategy router = Assert.Single(loaded.Catalog.Activate<IRouterStrategy>(provider));
        Assert.Equal("contracts-Plexus.Test.NewerPatch", router.Name);
        // The plugin's IRouterStrategy is the host's: one copy of the contracts, whatever the plugin was built on.
        Assert.Same(typeof(IRouterStrategy).Assembly, router.GetType().GetInterfaces().Single(i => i.Name == nameof(IRouterStrategy)).Assembly);
    }

    [Fact]
    public void An_older_minor_of_the_same_major_loads()
    {
        var loaded = TestPlugins.Load("older-minor");

        PluginInfo plugin = loaded["older-minor"];
        Assert.Equal(PluginStatus.Loaded, plugin.Status);
        Assert.Equal(new Version(2, 5, 3, 0), plugin.AbstractionsVersion);
        using ServiceProvider provider = loaded.Build();
        Assert.Equal("contracts-Plexus.Test.OlderMinor", Assert.Single(loaded.Catalog.Activate<IRouterStrategy>(provider)).Name);
    }

    [Fact]
    public void A_newer_minor_is_refused_with_one_line_without_loading()
    {
        var loaded = TestPlugins.Load("newer-minor", "older-minor");

        PluginInfo plugin = loaded["newer-minor"];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        Assert.Equal(new Version(2, 8, 0, 0), plugin.AbstractionsVersion);
        FailureLine.Assert(plugin.Error, "newer-minor", "built against Plexus.Abstractions 2.8.0, newer than this host's 2.7.0");
        Assert.Contains("update the host to Plexus.Abstractions 2.8.0 or later, or rebuild the plugin against 2.7.x", plugin.Error!, StringComparison.Ordinal);
        Assert.False(TestPlugins.IsLoadedAnywhere("Plexus.Test.NewerMinor"));
        Assert.Equal(PluginStatus.Loaded, loaded["older-minor"].Status);
    }

    [Theory]
    [InlineData("previous-major", "1.0.0")]
    [InlineData("incompatible", "99.0.0")]
    public void Another_major_is_refused_whether_older_or_newer(string name, string built)
    {
        var loaded = TestPlugins.Load(name);

        PluginInfo plugin = loaded[name];
        Assert.Equal(PluginStatus.Failed, plugin.Status);
        FailureLine.Assert(plugin.Error, name, $"Plexus.Abstractions {built}", "this host has 2.7.0", "major versions differ");
    }
}
