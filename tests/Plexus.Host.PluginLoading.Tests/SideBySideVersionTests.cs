using System.Runtime.Loader;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Host.PluginLoading.Tests;

public sealed class SideBySideVersionTests
{
    [Fact]
    public void Two_plugins_each_use_their_own_version_of_one_library()
    {
        var loaded = TestPlugins.Load("version-a", "version-b");
        using ServiceProvider provider = loaded.Build();

        IReadOnlyList<IRouterStrategy> routers = loaded.Catalog.Activate<IRouterStrategy>(provider);

        Assert.Equal(["version-a:v1:1.0.0.0", "version-b:v2:2.0.0.0"], routers.Select(r => r.Name));
    }

    [Fact]
    public void The_library_is_loaded_once_per_plugin_context_and_never_into_the_default_one()
    {
        var loaded = TestPlugins.Load("version-a", "version-b");
        using ServiceProvider provider = loaded.Build();
        _ = loaded.Catalog.Activate<IRouterStrategy>(provider).Select(r => r.Name).ToArray();

        Version? InContextOf(string plugin) =>
            AssemblyLoadContext.GetLoadContext(loaded[plugin].Assembly!)!.Assemblies
                .Single(a => a.GetName().Name == "Plexus.Test.SharedLib").GetName().Version;

        Assert.Equal(new Version(1, 0, 0, 0), InContextOf("version-a"));
        Assert.Equal(new Version(2, 0, 0, 0), InContextOf("version-b"));
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name == "Plexus.Test.SharedLib");
    }
}
