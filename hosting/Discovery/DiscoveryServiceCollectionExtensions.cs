using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Plexus.Hosting.Discovery;

/// <summary>Registers the discovery providers that ship inside the host.</summary>
internal static class DiscoveryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <c>memory</c> and <c>file</c> providers as <see cref="IDiscoveryProvider"/> (pick one by name), binds
    /// <c>Plexus:Discovery:File</c> and validates it when the host starts.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The root configuration (the one holding the <c>Plexus</c> section).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddEmbeddedDiscovery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<FileDiscoveryOptions>()
            .Bind(configuration.GetSection(FileDiscoveryOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FileDiscoveryOptions>, FileDiscoveryOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDiscoveryProvider, InMemoryDiscoveryProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDiscoveryProvider, FileDiscoveryProvider>());
        return services;
    }
}
