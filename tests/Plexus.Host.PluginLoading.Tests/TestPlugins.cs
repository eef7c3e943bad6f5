using System.Runtime.Loader;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>The compiled test plugins in test-plugins/&lt;name&gt;/ and a way to load a chosen few.</summary>
internal static class TestPlugins
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "test-plugins");

    public static string Folder(string name)
    {
        string folder = Path.Combine(Root, name);
        Assert.True(Directory.Exists(folder), $"test plugin folder {folder} is missing; build the test project");
        return folder;
    }

    /// <summary>Loads the named test plugin folders (and no default plugins/ folder).</summary>
    public static Loaded Load(params string[] names) => Load(new PluginLoaderOptions { Paths = names.Select(Folder).ToList() });

    public static Loaded Load(PluginLoaderOptions options, IDictionary<string, string?>? settings = null, string? baseDirectory = null)
    {
        var services = new ServiceCollection();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var logger = new ListLogger();

        // A base directory without plugins/ keeps each test to the folders it names.
        var loader = new PluginLoader(options, logger, baseDirectory ?? Path.Combine(AppContext.BaseDirectory, "no-default-plugins"));
        PluginCatalog catalog = loader.Load(services, configuration);
        return new Loaded(catalog, services, logger);
    }

    /// <summary>Whether any load context holds an assembly of this simple name.</summary>
    public static bool IsLoadedAnywhere(string assemblyName) =>
        AssemblyLoadContext.All.SelectMany(c => c.Assemblies).Any(a => a.GetName().Name == assemblyName);

    internal sealed record Loaded(PluginCatalog Catalog, ServiceCollection Services, ListLogger Logger)
    {
        public PluginInfo this[string name] => Catalog.Find(name) ?? throw new InvalidOperationException($"no plugin '{name}' in the catalog");

        public ServiceProvider Build() => Services.BuildServiceProvider();
    }
}
