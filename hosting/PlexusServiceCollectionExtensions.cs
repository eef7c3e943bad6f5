using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Plexus;
using Plexus.Hosting;
using Plexus.Hosting.Logging;
using Plexus.Hosting.Plugins;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Joins an application to the Plexus request plane.</summary>
public static class PlexusServiceCollectionExtensions
{
    /// <summary>
    /// Adds the request plane from the <c>Plexus</c> section of <paramref name="configuration"/>: loads the plugins in
    /// <c>plugins/</c> beside the application and in <c>Plexus:Plugins:Paths</c>, composes the configured transport,
    /// codec, router strategy and discovery provider, makes <see cref="IPlexusClient"/> injectable, serves the endpoints
    /// registered with <c>AddPlexusEndpoint</c> or <c>MapPlexusEndpoint</c> and those of service plugins (classes marked
    /// <see cref="PlexusEndpointAttribute"/>) that <c>Plexus:Endpoints</c> selects when the host starts, and on shutdown
    /// leaves discovery, drains in-flight requests and stops. Settings are validated when the host starts; a bad value stops
    /// it with an error naming the key.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">The configuration holding the <c>Plexus</c> section.</param>
    /// <param name="pluginLoggers">Where plugin loading logs as it happens; null keeps those lines and writes them
    /// through the application's logging when the host starts.</param>
    /// <returns>The services.</returns>
    /// <exception cref="PluginLoadException">A plugin named in <c>Plexus:Plugins:Required</c> failed to load; the message
    /// names the plugin, the cause and the fix.</exception>
    public static IServiceCollection AddPlexus(this IServiceCollection services, IConfiguration configuration, ILoggerFactory? pluginLoggers = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        const string category = "Plexus.Hosting.Plugins";
        if (pluginLoggers is not null)
        {
            services.AddPlexusPlugins(configuration, pluginLoggers.CreateLogger(category));
        }
        else
        {
            var buffer = new StartupLogBuffer(category);
            services.AddPlexusPlugins(configuration, buffer);
            services.AddSingleton<IHostedService>(sp =>
            {
                buffer.Target = sp.GetRequiredService<ILoggerFactory>();
                return buffer;
            });
        }

        services.AddPlexusRequestPlane(configuration);
        return services;
    }
}
