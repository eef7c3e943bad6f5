using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Plexus.Host.RequestPlane.Server;

namespace Plexus.Host.Demo;

/// <summary>Adds the demo service when <c>Plexus:Demo:Enabled</c> is true.</summary>
internal static class DemoServiceCollectionExtensions
{
    public const string Echo = "demo/echo/echo";
    public const string Generate = "demo/echo/generate";

    public static IServiceCollection AddDemoService(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("Plexus:Demo");
        services.AddOptions<DemoOptions>()
            .Bind(section)
            .Validate(o => o.MaxTokens is >= 0 and <= 100_000, "Plexus:Demo:MaxTokens must be from 0 to 100000.")
            .Validate(o => o.TokenDelay >= TimeSpan.Zero && o.TokenDelay <= TimeSpan.FromSeconds(10), "Plexus:Demo:TokenDelay must be from 00:00:00 to 00:00:10.")
            .ValidateOnStart();
        if (section.GetValue("Enabled", true))
        {
            services.AddPlexusEndpoint<EchoHandler>(Echo);
            services.AddPlexusEndpoint<GenerateHandler>(Generate);
        }

        return services;
    }
}
