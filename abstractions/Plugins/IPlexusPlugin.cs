using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus;

/// <summary>
/// An optional entry point of a plugin assembly, for registrations the host's scan cannot infer. The host scans
/// every plugin for implementations of the contracts anyway; an entry adds the rest, such as options bound from
/// the plugin's own configuration section (by convention <c>Plexus:Transports:&lt;Name&gt;</c> for a transport,
/// <c>Plexus:Codecs:&lt;Name&gt;</c> for a codec).
/// </summary>
public interface IPlexusPlugin
{
    /// <summary>Adds the plugin's services.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's whole configuration.</param>
    void ConfigureServices(IServiceCollection services, IConfiguration configuration);
}
