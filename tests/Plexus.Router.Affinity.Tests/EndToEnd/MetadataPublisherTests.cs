using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Router.Affinity.Tests.Support;

namespace Plexus.Router.Affinity.Tests.EndToEnd;

/// <summary>
/// The host's <see cref="IInstanceMetadataPublisher"/>, which the prefix strategy's services publish their blocks with:
/// a key set on the endpoint's instance reaches discovery, a null removes it, the host's own keys are refused.
/// </summary>
public sealed class MetadataPublisherTests
{
    private static readonly EndpointAddress Served = EndpointAddress.Parse("kv/cache/generate");

    [Fact]
    public async Task A_key_set_on_a_served_endpoint_reaches_discovery_and_null_removes_it()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:RequestPlane:Transport"] = "memory",
            ["Plexus:Discovery:Provider"] = "memory",
            ["Plexus:Plugins:Paths:0"] = PluginFolders.Host("memory"),
            ["Plexus:Plugins:Paths:1"] = PluginFolders.Host("twopart"),
        });
        builder.AddPlexus();
        builder.Services.MapPlexusEndpoint(Served.ToString(), static (_, _) => ValueTask.CompletedTask);
        using var host = builder.Build();
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<IInstanceMetadataPublisher>();
        var discovery = host.Services.GetServices<IDiscoveryProvider>().Single(p => p.Name == "memory");

        Assert.True(await publisher.SetAsync(Served, AffinityHeaders.PrefixBlocksMetadata, "00000000000000aa", CancellationToken.None));
        var instance = Assert.Single(await discovery.ListAsync(Served, CancellationToken.None));
        Assert.Equal("00000000000000aa", instance.Metadata[AffinityHeaders.PrefixBlocksMetadata]);
        Assert.True(instance.Metadata.ContainsKey(InstanceMetadataKeys.Node));

        Assert.True(await publisher.SetAsync(Served, AffinityHeaders.PrefixBlocksMetadata, null, CancellationToken.None));
        instance = Assert.Single(await discovery.ListAsync(Served, CancellationToken.None));
        Assert.False(instance.Metadata.ContainsKey(AffinityHeaders.PrefixBlocksMetadata));
        Assert.True(instance.Metadata.ContainsKey(InstanceMetadataKeys.Node));

        Assert.False(await publisher.SetAsync(EndpointAddress.Parse("not/served/here"), "k", "v", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(async () => await publisher.SetAsync(Served, InstanceMetadataKeys.Node, "impostor", CancellationToken.None));

        await host.StopAsync();
    }
}
