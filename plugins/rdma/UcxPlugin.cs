using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: Plexus.PlexusPlugin("rdma")]

namespace Plexus.Transport.Rdma;

/// <summary>The plugin's entry: binds <c>Plexus:Bulk:Ucx</c> and offers the <c>ucx</c> bulk transport.</summary>
public sealed class UcxPlugin : IPlexusPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<UcxBulkOptions>().Bind(configuration.GetSection(UcxBulkOptions.SectionName));
        services.AddSingleton<UcxBulkTransport>();
        services.AddSingleton<IBulkTransport>(static sp => sp.GetRequiredService<UcxBulkTransport>());
    }
}
