using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: Plexus.PlexusPlugin("greeter")]

namespace Plexus.Test.GreeterService;

/// <summary>Binds the plugin's own section for its handler.</summary>
internal sealed class GreeterPlugin : IPlexusPlugin
{
    public const string SectionName = "Plexus:Services:Greeter";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration) =>
        services.AddOptions<GreeterOptions>().Bind(configuration.GetSection(SectionName));
}
