using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Moq;
using Plexus.Hosting.Routing;

namespace Plexus.Host.Tests.Routing;

public sealed class RouterRegistrationTests
{
    [Fact]
    public void Registers_the_five_built_in_strategies_by_name()
    {
        using var provider = new ServiceCollection().AddBuiltInRouterStrategies().BuildServiceProvider();

        var names = provider.GetServices<IRouterStrategy>().Select(s => s.Name).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["direct", "least-loaded", "power-of-two", "random", "round-robin"], names);
    }

    [Fact]
    public void Adding_twice_registers_each_strategy_once()
    {
        using var provider = new ServiceCollection().AddBuiltInRouterStrategies().AddBuiltInRouterStrategies().BuildServiceProvider();

        Assert.Equal(5, provider.GetServices<IRouterStrategy>().Count());
    }

    [Fact]
    public void A_plugin_strategy_sits_beside_the_built_in_ones()
    {
        var plugin = new Mock<IRouterStrategy>();
        plugin.SetupGet(s => s.Name).Returns("sticky");
        var services = new ServiceCollection().AddBuiltInRouterStrategies();
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IRouterStrategy), plugin.Object));

        using var provider = services.BuildServiceProvider();
        var strategies = provider.GetServices<IRouterStrategy>().ToList();

        Assert.Equal(6, strategies.Count);
        Assert.Same(plugin.Object, Assert.Single(strategies, s => s.Name == "sticky"));
    }

    [Fact]
    public void Strategies_are_singletons()
    {
        using var provider = new ServiceCollection().AddBuiltInRouterStrategies().BuildServiceProvider();

        var first = provider.GetServices<IRouterStrategy>().ToList();
        var second = provider.GetServices<IRouterStrategy>().ToList();

        for (var i = 0; i < first.Count; i++)
        {
            Assert.Same(first[i], second[i]);
        }
    }
}
