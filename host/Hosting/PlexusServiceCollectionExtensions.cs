using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Plexus.Host.Codecs;
using Plexus.Host.Composition;
using Plexus.Host.Configuration;
using Plexus.Host.Discovery;
using Plexus.Host.RequestPlane;
using Plexus.Host.RequestPlane.Client;
using Plexus.Host.RequestPlane.Server;
using Plexus.Host.Routing;
using Plexus.Host.Status;
using Plexus.Host.Telemetry;

namespace Plexus.Host.Hosting;

/// <summary>Adds the request plane: options, built-in components, composition, client and server sides.</summary>
internal static class PlexusServiceCollectionExtensions
{
    public static IServiceCollection AddPlexusRequestPlane(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PlexusOptions>().Bind(configuration.GetSection(PlexusOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PlexusOptions>, PlexusOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.AddTwoPartCodec(configuration);
        services.AddBuiltInRouterStrategies();
        services.AddEmbeddedDiscovery(configuration);

        services.TryAddSingleton<PlexusComposition>();
        services.TryAddSingleton<IFrameCodecs, ComposedFrameCodecs>();
        services.TryAddSingleton<NodeIdentity>();
        services.TryAddSingleton<PushRouter>();
        services.AddMetrics();
        services.TryAddSingleton<RequestPlaneMetrics>();
        services.TryAddSingleton<RequestPlaneServerHost>();

        // Validation runs first so that a bad name stops the start with the key that holds it.
        services.AddHostedService<CompositionValidator>();
        services.AddOptions<TracingOptions>().Bind(configuration.GetSection(TracingOptions.SectionName));
        services.AddHostedService<ConsoleSpanWriter>();

        // The status server starts before the request plane serves and stops after it drained, so that /health
        // answers 503 for the whole drain.
        services.AddOptions<StatusOptions>().Bind(configuration.GetSection(StatusOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StatusOptions>, StatusOptionsValidator>());
        services.TryAddSingleton<MetricsCollector>();
        services.TryAddSingleton<StatusServer>();
        services.AddHostedService(static sp => sp.GetRequiredService<StatusServer>());
        services.AddHostedService(static sp => sp.GetRequiredService<RequestPlaneServerHost>());
        services.AddHostedService<StartupSummary>();

        return services;
    }
}
