using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: Plexus.PlexusPlugin("memory")]

namespace Plexus.Transport.Memory;

/// <summary>
/// The plugin's entry: binds <c>Plexus:Transports:Memory</c>, validates it when the host starts (a bad value names
/// its key), and offers the transport to the host as an <see cref="ITransportFactory"/> named <c>memory</c>.
/// Public because it is the one type the host looks for by reflection; everything else stays internal.
/// </summary>
public sealed class MemoryPlugin : IPlexusPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<MemoryTransportOptions>()
            .Bind(configuration.GetSection(MemoryTransportOptions.SectionName))
            .Validate(o => o.HasValidMaxPayloadBytes, MemoryTransportOptions.MaxPayloadBytesRule)
            .Validate(o => o.HasValidMaxBufferedBytes, MemoryTransportOptions.MaxBufferedBytesRule)
            .Validate(o => o.HasValidMaxBufferedMessages, MemoryTransportOptions.MaxBufferedMessagesRule)
            .Validate(o => o.HasValidMaxBufferedBytesPerClient, MemoryTransportOptions.MaxBufferedBytesPerClientRule)
            .ValidateOnStart();

        services.AddSingleton<ITransportFactory, MemoryTransportFactory>();
    }
}
