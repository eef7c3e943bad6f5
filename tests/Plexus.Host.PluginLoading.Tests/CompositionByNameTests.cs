using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Hosting.Composition;
using Plexus.Host.Hosting;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>
/// A plugin's codec, router strategy and transport are chosen by name from configuration, beside the built-in router
/// strategies and the stock codec plugin (twopart, from the host's plugins folder).
/// </summary>
public sealed class CompositionByNameTests
{
    private static IHost Build(params string[] settings) =>
        PlexusHostFactory.Build(
            [$"--Plexus:Plugins:Paths:0={TestPlugins.Folder("good")}", $"--Plexus:Plugins:Paths:1={HostPlugins.Folder("twopart")}", .. settings],
            quiet: true,
            serve: static _ => false);

    [Fact]
    public void Configuration_selects_the_plugins_components_by_name()
    {
        using var host = Build("--Plexus:RequestPlane:Codec=good-codec", "--Plexus:Router:Strategy=good-first", "--Plexus:RequestPlane:Transport=good");
        var composition = host.Services.GetRequiredService<PlexusComposition>();

        composition.Validate();

        Assert.Equal("good-codec", composition.Codec.Name);
        Assert.Equal("Plexus.Test.GoodTransport", composition.Codec.GetType().Assembly.GetName().Name);
        Assert.Equal("good-first", composition.Router.Name);
        Assert.Equal("good", composition.ServingTransport.Name);
        // The stock codec and the built-in strategies stay available beside the plugin's.
        Assert.True(composition.Codecs.TryGet("twopart", out _));
        Assert.True(composition.Routers.TryGet("round-robin", out _));
    }

    [Fact]
    public void The_stock_codec_and_the_built_in_strategy_are_the_defaults()
    {
        using var host = Build("--Plexus:RequestPlane:Transport=good");
        var composition = host.Services.GetRequiredService<PlexusComposition>();

        Assert.Equal("twopart", composition.Codec.Name);
        Assert.Equal("Plexus.Codec.TwoPart", composition.Codec.GetType().Assembly.GetName().Name);
        Assert.Equal("round-robin", composition.Router.Name);
    }

    [Fact]
    public void A_name_nothing_provides_is_refused_with_the_key_and_what_is_available()
    {
        using var host = Build("--Plexus:RequestPlane:Codec=zstd-frames", "--Plexus:RequestPlane:Transport=good");
        var composition = host.Services.GetRequiredService<PlexusComposition>();

        var ex = Assert.Throws<PlexusConfigurationException>(composition.Validate);
        Assert.Contains("Plexus:RequestPlane:Codec", ex.Message, StringComparison.Ordinal);
        Assert.Contains("good-codec, twopart", ex.Message, StringComparison.Ordinal);
    }
}
