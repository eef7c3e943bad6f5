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

        // The validator also refuses unknown keys, so that a misspelt setting names itself instead of being ignored.
        var section = configuration.GetSection(AffinityRouterOptions.SectionName);
        services.AddOptions<AffinityRouterOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AffinityRouterOptions>>(new AffinityRouterOptionsValidator(section)));
        services.TryAddSingleton<RoutingMetrics>();
        services.TryAddSingleton(TimeProvider.System);
    }
}
