using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Bulk;
using Plexus.Hosting.Cluster;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Configuration;
using Plexus.Hosting.Discovery;
using Plexus.Hosting.Endpoints;
using Plexus.Hosting.RequestPlane;
using Plexus.Hosting.RequestPlane.Client;
using Plexus.Hosting.RequestPlane.Server;
using Plexus.Hosting.Routing;
using Plexus.Hosting.Telemetry;

namespace Plexus.Hosting;

/// <summary>Adds the request plane: options, built-in components, composition, client and server sides.</summary>
internal static class RequestPlaneServiceCollectionExtensions
{
    public static IServiceCollection AddPlexusRequestPlane(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PlexusOptions>().Bind(configuration.GetSection(PlexusOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PlexusOptions>, PlexusOptionsValidator>());
        services.PostConfigure<PlexusOptions>(options => options.RequestPlane.Selection = TransportSelection.Read(configuration));
        services.TryAddSingleton(TimeProvider.System);

        services.AddBuiltInRouterStrategies();
        services.AddEmbeddedDiscovery(configuration);

        services.TryAddSingleton<PlexusComposition>();
        services.TryAddSingleton<IFrameCodecs, ComposedFrameCodecs>();
        services.TryAddSingleton<NodeIdentity>();
        services.TryAddSingleton<PlexusClient>();
        services.TryAddSingleton<IPlexusClient>(static sp => sp.GetRequiredService<PlexusClient>());
        services.AddMetrics();
        services.TryAddSingleton<RequestPlaneMetrics>();
        services.TryAddSingleton<BulkMetrics>();
        services.TryAddSingleton<BulkPath>();
        services.AddOptions<EndpointSelectionOptions>().Bind(configuration.GetSection(EndpointSelectionOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EndpointSelectionOptions>>(
            new EndpointSelectionOptionsValidator(configuration.GetSection(EndpointSelectionOptions.SectionName))));
        services.TryAddSingleton<EndpointSelection>();
        services.TryAddSingleton<RequestPlaneServerHost>();
        services.TryAddSingleton<IInstanceMetadataPublisher, InstanceMetadataPublisher>();
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>());
        services.TryAddSingleton<ClusterIdentity>();
        services.TryAddSingleton<IClusterIdentity>(static sp => sp.GetRequiredService<ClusterIdentity>());
        services.TryAddSingleton<ClusterNode>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDiscoveryProvider, SeedDiscoveryProvider>());

        // Validation runs first so that a bad name stops the start with the key that holds it.
        services.AddHostedService<CompositionValidator>();
        services.AddOptions<TracingOptions>().Bind(configuration.GetSection(TracingOptions.SectionName));
        services.AddHostedService<ConsoleSpanWriter>();
        services.TryAddSingleton<MetricsCollector>();
        // The cluster first: a transport with Tls:Mode=cluster needs this node's certificate before it serves.
        services.AddHostedService(static sp => sp.GetRequiredService<ClusterNode>());
        services.AddHostedService(static sp => sp.GetRequiredService<RequestPlaneServerHost>());

        return services;
    }
}
