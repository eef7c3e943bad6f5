using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Host.Hosting;
using Plexus.Hosting;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.Tests.Composition;

public sealed class ComposedFrameCodecsTests
{
    [Fact]
    public void Transports_see_the_configured_codec_and_can_look_up_others_by_name()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new PluginCatalog([], NullLogger.Instance));
        services.AddPlexusRequestPlane(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Plexus:RequestPlane:Codec"] = "TwoPart" }).Build());
        using var provider = services.BuildServiceProvider();

        var codecs = provider.GetRequiredService<IFrameCodecs>();

        Assert.Equal("twopart", codecs.Default.Name);
        Assert.True(codecs.TryGet("twopart", out var codec));
        Assert.Same(codecs.Default, codec);
        Assert.False(codecs.TryGet("zstd-frames", out var missing));
        Assert.Null(missing);
    }
}
