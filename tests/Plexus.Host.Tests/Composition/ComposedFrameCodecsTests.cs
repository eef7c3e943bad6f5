using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Hosting;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.Tests.Composition;

/// <summary>
/// The library has no codec of its own: transports see the codecs that plugins (or the application) provide, and the
/// configured one is picked by name.
/// </summary>
public sealed class ComposedFrameCodecsTests
{
    [Fact]
    public void Transports_see_the_configured_codec_and_can_look_up_others_by_name()
    {
        using var provider = Build("Beta", [new NamedTestCodec("alpha"), new NamedTestCodec("beta")]);

        var codecs = provider.GetRequiredService<IFrameCodecs>();

        Assert.Equal("beta", codecs.Default.Name);
        Assert.True(codecs.TryGet("ALPHA", out var alpha));
        Assert.Equal("alpha", alpha.Name);
        Assert.True(codecs.TryGet("beta", out var beta));
        Assert.Same(codecs.Default, beta);
        Assert.False(codecs.TryGet("zstd-frames", out var missing));
        Assert.Null(missing);
    }

    [Fact]
    public void The_library_provides_no_codec_of_its_own()
    {
        using var provider = Build("twopart", []);

        Assert.Empty(provider.GetRequiredService<PlexusComposition>().Codecs.Names);
        Assert.False(provider.GetRequiredService<IFrameCodecs>().TryGet("twopart", out _));
    }

    [Fact]
    public void A_configured_codec_nothing_provides_is_refused_naming_the_key_and_the_codecs_available()
    {
        using var provider = Build("zstd-frames", [new NamedTestCodec("alpha"), new NamedTestCodec("beta")]);
        var composition = provider.GetRequiredService<PlexusComposition>();

        var error = Assert.Throws<PlexusConfigurationException>(composition.Validate);

        Assert.Contains("Plexus:RequestPlane:Codec is 'zstd-frames'", error.Message, StringComparison.Ordinal);
        Assert.Contains("(available: alpha, beta)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: set Plexus:RequestPlane:Codec to one of those", error.Message, StringComparison.Ordinal);
        Assert.Throws<PlexusConfigurationException>(() => provider.GetRequiredService<IFrameCodecs>().Default);
    }

    [Fact]
    public void With_no_codec_loaded_the_error_says_so_and_names_the_plugins_that_did_not_load()
    {
        var disabled = new PluginInfo("twopart", "/opt/plexus/plugins/twopart");
        disabled.MarkDisabled();
        var failed = new PluginInfo("acme-codec", "/opt/plexus/plugins/acme-codec");
        failed.MarkFailed("Plugin 'acme-codec' (/opt/plexus/plugins/acme-codec): broken. Fix: mend it.");
        using var provider = Build("twopart", [], new PluginCatalog([disabled, failed], NullLogger.Instance));
        var composition = provider.GetRequiredService<PlexusComposition>();

        var error = Assert.Throws<PlexusConfigurationException>(composition.Validate);

        Assert.Equal(
            "Plexus:RequestPlane:Codec is 'twopart', but no codec of that name is loaded (no codec is loaded; disabled by Plexus:Plugins:Disabled: twopart; failed to load: acme-codec). "
            + "Fix: add the plugin that provides 'twopart' to the plugins folder, or mend the refused plugin that may provide it ('plugins' lists why each was refused), or take it out of Plexus:Plugins:Disabled if it is disabled.",
            error.Message);
    }

    private static ServiceProvider Build(string codec, IFrameCodec[] codecs, PluginCatalog? catalog = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(catalog ?? new PluginCatalog([], NullLogger.Instance));

        // Stand-ins for codec plugins, registered as an application registers its own components.
        foreach (var c in codecs)
        {
            services.AddSingleton(c);
        }

        services.AddSingleton<ITransportFactory>(new RequestPlane.ScriptedTransport());
        services.AddPlexusRequestPlane(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:RequestPlane:Codec"] = codec,
            ["Plexus:RequestPlane:Transport"] = "scripted",
            ["Plexus:Discovery:Provider"] = "memory",
        }).Build());
        return services.BuildServiceProvider();
    }
}
