using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Plexus.Host.Hosting;

namespace Plexus.Host.Status;

/// <summary>Adds the node's status server and its start-up summary line.</summary>
internal static class StatusServiceCollectionExtensions
{
    public static IServiceCollection AddPlexusStatus(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StatusOptions>().Bind(configuration.GetSection(StatusOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StatusOptions>, StatusOptionsValidator>());
        services.TryAddSingleton<StatusServer>();
        services.AddHostedService(static sp => sp.GetRequiredService<StatusServer>());
        services.AddHostedService<StartupSummary>();
        return services;
    }
}
