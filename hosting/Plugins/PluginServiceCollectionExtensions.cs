using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Plugins;

/// <summary>Adds the plugins to the host's services before the container is built.</summary>
internal static class PluginServiceCollectionExtensions
{
    /// <summary>
    /// Loads the plugins configured under <c>Plexus:Plugins</c>, registers their components (as singletons of their
    /// own type), runs their entries, and registers the <see cref="PluginCatalog"/> and <see cref="PluginLoaderOptions"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's whole configuration.</param>
    /// <param name="logger">Where loaded plugins and optional failures are reported.</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="PluginLoadException">A required plugin failed; <see cref="PluginLoadException.Lines"/> has one line per failure.</exception>
    public static PluginCatalog AddPlexusPlugins(this IServiceCollection services, IConfiguration configuration, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(logger);

        var options = new PluginLoaderOptions();
        configuration.GetSection(PluginLoaderOptions.SectionName).Bind(options);
        services.AddSingleton(options);
        return new PluginLoader(options, logger).Load(services, configuration);
    }
}
