using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

[assembly: Plexus.PlexusPlugin("nats")]

namespace Plexus.Transport.Nats;

/// <summary>
/// The plugin's entry: binds <c>Plexus:Transports:Nats</c>, validates it when the host starts (a bad value names its
/// key), and offers the transport to the host as an <see cref="ITransportFactory"/> named <c>nats</c>.
/// </summary>
public sealed class NatsPlugin : IPlexusPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<NatsTransportOptions>()
            .Bind(configuration.GetSection(NatsTransportOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<NatsTransportOptions>, NatsTransportOptionsValidator>();
        services.AddSingleton<ITransportFactory, NatsTransportFactory>();
    }
}
