using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Transport.Rdma.Tests;

/// <summary>The plugin entry: it offers the ucx bulk transport, configured from Plexus:Bulk:Ucx.</summary>
public sealed class UcxPluginTests
{
    [Fact]
    public void The_plugin_offers_the_ucx_bulk_transport_with_the_UCX_settings_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:Bulk:Ucx:Settings:TLS"] = "posix,cma,self",
            ["Plexus:Bulk:Ucx:TransferTimeout"] = "5s",
        }).Build();
        PlexusDurationConverter.Register();
        var services = new ServiceCollection().AddLogging();
        new UcxPlugin().ConfigureServices(services, configuration);
        using var provider = services.BuildServiceProvider();

        var bulk = provider.GetRequiredService<IBulkTransport>();
        Assert.Equal("ucx", bulk.Name);
        Assert.True(bulk.IsAvailable, ((UcxBulkTransport)bulk).UnavailableReason);
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<UcxBulkOptions>>().Value;
        Assert.Equal("posix,cma,self", options.Settings["TLS"]);
        Assert.Equal(TimeSpan.FromSeconds(5), options.TransferTimeout);
    }
}
