using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class PluginContractTests
{
    [Fact]
    public void The_plugin_entry_adds_one_of_each_contract()
    {
        IPlexusPlugin plugin = new LoopbackPlugin();
        var services = new ServiceCollection();

        plugin.ConfigureServices(services, new DictionaryConfiguration(new Dictionary<string, string?>()));

        Assert.Single(services, d => d.ServiceType == typeof(ITransportFactory));
        Assert.Single(services, d => d.ServiceType == typeof(IFrameCodec));
        Assert.Single(services, d => d.ServiceType == typeof(IRouterStrategy));
        Assert.Single(services, d => d.ServiceType == typeof(IDiscoveryProvider));
        Assert.Single(services, d => d.ServiceType == typeof(IBulkTransport));
        Assert.All(services, d => Assert.Equal(ServiceLifetime.Singleton, d.Lifetime));
    }

    [Fact]
    public void The_plugin_reads_its_own_section()
    {
        var services = new ServiceCollection();
        var configuration = new DictionaryConfiguration(new Dictionary<string, string?> { ["Plexus:Transports:Loopback:ResponseCapacity"] = "3" });

        new LoopbackPlugin().ConfigureServices(services, configuration);

        var factory = Assert.IsType<LoopbackTransportFactory>(Assert.Single(services, d => d.ServiceType == typeof(ITransportFactory)).ImplementationInstance);
        Assert.Equal(3, factory.ResponseCapacity);
    }

    [Fact]
    public void A_bad_setting_names_the_key()
    {
        var configuration = new DictionaryConfiguration(new Dictionary<string, string?> { ["Plexus:Transports:Loopback:ResponseCapacity"] = "lots" });

        var error = Assert.Throws<InvalidOperationException>(() => new LoopbackPlugin().ConfigureServices(new ServiceCollection(), configuration));

        Assert.Contains("Plexus:Transports:Loopback:ResponseCapacity", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuring_twice_does_not_duplicate_contracts()
    {
        var services = new ServiceCollection();
        var configuration = new DictionaryConfiguration(new Dictionary<string, string?>());
        var plugin = new LoopbackPlugin();

        plugin.ConfigureServices(services, configuration);
        plugin.ConfigureServices(services, configuration);

        Assert.Single(services, d => d.ServiceType == typeof(IFrameCodec));
        Assert.Single(services, d => d.ServiceType == typeof(IRouterStrategy));
    }

    [Fact]
    public void The_assembly_names_itself_as_a_plugin()
    {
        var attribute = typeof(LoopbackPlugin).Assembly.GetCustomAttribute<PlexusPluginAttribute>();

        Assert.NotNull(attribute);
        Assert.Equal("loopback", attribute.Name);
    }

    [Fact]
    public void The_contracts_report_their_version()
    {
        Assert.Equal(typeof(IPlexusPlugin).Assembly.GetName().Version, PlexusAbstractions.Version);
        Assert.Equal(2, PlexusAbstractions.Version.Major); // 2.0: transports hand requests to the core's IRequestDispatcher.
    }
}
