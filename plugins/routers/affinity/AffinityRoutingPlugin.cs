using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Plexus.Router.Affinity;

/// <summary>
/// The plugin's entry: binds <c>Plexus:Routers:Affinity</c>, validates it when the host starts (every bad value names
/// its key) and adds the routing metrics. The host's scan finds the two strategies, <c>affinity</c> and <c>prefix</c>,
/// and <c>Plexus:Router:Strategy</c> picks one by name.
/// </summary>
internal sealed class AffinityRoutingPlugin : IPlexusPlugin
{
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Unknown keys fail binding so that a misspelt setting names itself instead of being ignored.
        services.AddOptions<AffinityRouterOptions>()
            .Bind(configuration.GetSection(AffinityRouterOptions.SectionName), binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AffinityRouterOptions>, AffinityRouterOptionsValidator>());
        services.TryAddSingleton<RoutingMetrics>();
        services.TryAddSingleton(TimeProvider.System);
    }
}
