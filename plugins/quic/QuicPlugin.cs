using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

[assembly: Plexus.PlexusPlugin("quic")]

namespace Plexus.Transport.Quic;

/// <summary>
/// The plugin's entry: binds <c>Plexus:Transports:Quic</c>, validates it when the host starts (every bad value names
/// its key), and offers the transport to the host as an <see cref="ITransportFactory"/> named <c>quic</c>.
/// </summary>
public sealed class QuicPlugin : IPlexusPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<QuicTransportOptions>()
            .Bind(configuration.GetSection(QuicTransportOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QuicTransportOptions>, QuicTransportOptionsValidator>());
        services.AddSingleton<ITransportFactory, QuicTransportFactory>();
    }
}
