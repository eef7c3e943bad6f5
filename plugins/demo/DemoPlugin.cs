using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: Plexus.PlexusPlugin("demo")]

namespace Plexus.Service.Demo;

/// <summary>
/// The plugin's entry: binds <c>Plexus:Demo</c> for the handlers and validates it when the host starts. The handlers
/// themselves are found by the host through their <see cref="PlexusEndpointAttribute"/>.
/// </summary>
internal sealed class DemoPlugin : IPlexusPlugin
{
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DemoOptions>()
            .Bind(configuration.GetSection(DemoOptions.SectionName))
            .Validate(o => o.MaxTokens is >= 0 and <= 100_000, "Plexus:Demo:MaxTokens must be from 0 to 100000.")
            .Validate(o => o.TokenDelay >= TimeSpan.Zero && o.TokenDelay <= TimeSpan.FromSeconds(10), "Plexus:Demo:TokenDelay must be from 00:00:00 to 00:00:10.")
            .ValidateOnStart();
    }
}
