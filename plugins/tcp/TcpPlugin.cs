using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

[assembly: Plexus.PlexusPlugin("tcp")]

namespace Plexus.Transport.Tcp;

/// <summary>
/// The plugin's entry: binds <c>Plexus:Transports:Tcp</c>, validates it when the host starts (every bad value names its
/// key), and offers the transport to the host as an <see cref="ITransportFactory"/> named <c>tcp</c>.
/// </summary>
public sealed class TcpPlugin : IPlexusPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<TcpTransportOptions>()
            .Bind(configuration.GetSection(TcpTransportOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TcpTransportOptions>, TcpTransportOptionsValidator>());
        services.AddSingleton<ITransportFactory, TcpTransportFactory>();
    }
}
