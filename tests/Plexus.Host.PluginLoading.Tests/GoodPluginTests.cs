using System.Reflection;
using System.Runtime.Loader;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

public sealed class GoodPluginTests
{
    [Fact]
    public void Reads_name_version_abstractions_version_and_kinds()
    {
        var loaded = TestPlugins.Load("good");

        PluginInfo good = Assert.Single(loaded.Catalog.Plugins);
        Assert.Equal("good", good.Name);
        Assert.Equal(PluginStatus.Loaded, good.Status);
        Assert.Null(good.Error);
        Assert.Equal("1.2.3", good.Version);
        Assert.Equal(PlexusAbstractions.Version, good.AbstractionsVersion);
        Assert.Equal(["transport", "codec", "router"], good.Kinds);
        Assert.Equal(TestPlugins.Folder("good"), good.Folder);
        Assert.False(good.Required);
    }

    [Fact]
    public void Finds_non_public_components_per_contract()
    {
        PluginInfo good = TestPlugins.Load("good")["good"];

        Type factory = Assert.Single(good.Components[typeof(ITransportFactory)]);
        Assert.Equal("Plexus.Test.GoodTransport.GoodTransportFactory", factory.FullName);
        Assert.False(factory.IsPublic);
        Type router = Assert.Single(good.Components[typeof(IRouterStrategy)]);
        Assert.Equal("Plexus.Test.GoodTransport.GoodRouter", router.FullName);
        Type codec = Assert.Single(good.Components[typeof(IFrameCodec)]);
        Assert.Equal("Plexus.Test.GoodTransport.GoodCodec", codec.FullName);
        Assert.False(good.Components.ContainsKey(typeof(IDiscoveryProvider)));
    }

    [Fact]
    public void Registers_components_as_singletons_of_their_own_type_and_the_catalog()
    {
        var loaded = TestPlugins.Load("good");
        Type factoryType = loaded["good"].Components[typeof(ITransportFactory)][0];

        ServiceDescriptor descriptor = Assert.Single(loaded.Services, d => d.ServiceType == factoryType);
        Assert.Equal(factoryType, descriptor.ImplementationType);
        Assert.Equal(ServiceLifetime.Singleton, descriptor.Lifetime);

        using ServiceProvider provider = loaded.Build();
        Assert.Same(loaded.Catalog, provider.GetRequiredService<PluginCatalog>());
        ITransportFactory first = Assert.Single(loaded.Catalog.Activate<ITransportFactory>(provider));
        Assert.Same(first, Assert.Single(loaded.Catalog.Activate<ITransportFactory>(provider)));
    }

    [Fact]
    public void Transport_is_the_hosts_contract_type_and_sees_the_hosts_contract_assemblies()
    {
        var loaded = TestPlugins.Load("good");
        using ServiceProvider provider = loaded.Build();

        ITransportFactory factory = Assert.Single(loaded.Catalog.Activate<ITransportFactory>(provider));

        Assert.Equal("good", factory.Name);
        PluginInfo good = Assert.Single(loaded.Catalog.Plugins, p => p.Name == "good");
        Assert.Same(good.LoadContext!.Context, AssemblyLoadContext.GetLoadContext(factory.GetType().Assembly));
        Assert.NotSame(AssemblyLoadContext.Default, good.LoadContext.Context);
        Assert.Same(typeof(IEndpointHandler).Assembly, ReadAssembly(factory, "HandlerContractAssembly"));

        // The plugin ships its own Microsoft.Extensions.DependencyInjection.Abstractions; the host's must still win.
        Assert.True(File.Exists(Path.Combine(TestPlugins.Folder("good"), "Microsoft.Extensions.DependencyInjection.Abstractions.dll")));
        Assert.Same(typeof(IServiceCollection).Assembly, ReadAssembly(factory, "ServiceCollectionContractAssembly"));
    }

    [Fact]
    public void Runs_the_entry_with_the_hosts_configuration()
    {
        var loaded = TestPlugins.Load(
            new PluginLoaderOptions { Paths = [TestPlugins.Folder("good")] },
            new Dictionary<string, string?> { ["Plexus:Transports:Good:Greeting"] = "hello" });
        using ServiceProvider provider = loaded.Build();

        Assert.Equal("greeting: hello", provider.GetRequiredKeyedService<object>("good-entry"));
    }

    [Fact]
    public void Logs_a_loaded_plugin_at_debug_without_warnings()
    {
        var loaded = TestPlugins.Load("good");

        Assert.Contains(loaded.Logger.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("good", StringComparison.Ordinal) && e.Message.Contains("1.2.3", StringComparison.Ordinal));
        Assert.DoesNotContain(loaded.Logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    private static Assembly ReadAssembly(object component, string property) =>
        Assert.IsAssignableFrom<Assembly>(component.GetType().GetProperty(property)!.GetValue(component));
}
