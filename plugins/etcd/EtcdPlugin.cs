using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

[assembly: Plexus.PlexusPlugin("etcd")]

namespace Plexus.Discovery.Etcd;

/// <summary>
/// The plugin's entry: binds <c>Plexus:Discovery:Etcd</c> and validates it when the host starts (every bad value names
/// its key). The scan registers <see cref="EtcdDiscoveryProvider"/>, offered to the host as the discovery provider
/// named <c>etcd</c>; it is not registered again here, so a failing constructor fails this plugin alone.
/// </summary>
public sealed class EtcdPlugin : IPlexusPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var section = configuration.GetSection(EtcdDiscoveryOptions.SectionName);
        services.AddOptions<EtcdDiscoveryOptions>()
            .Bind(section)
            .PostConfigure(options =>
            {
                // The binder ignores a plain value on a list's own key; read it so that
                // --Plexus:Discovery:Etcd:Endpoints=http://a:2379,http://b:2379 means what it says.
                if (section["Endpoints"] is { Length: > 0 } list)
                {
                    options.Endpoints = [list, .. options.Endpoints];
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EtcdDiscoveryOptions>, EtcdDiscoveryOptionsValidator>());
    }
}
