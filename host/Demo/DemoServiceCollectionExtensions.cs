using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Plexus.Hosting.RequestPlane.Server;

namespace Plexus.Host.Demo;

/// <summary>Adds the demo service when <c>Plexus:Demo:Enabled</c> is true.</summary>
internal static class DemoServiceCollectionExtensions
{

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
            var ns = section.GetValue("Namespace", "demo")!;
            if (!EndpointAddress.TryParse($"{ns}/echo/echo", out _))
            {
                throw new Plexus.Hosting.Composition.PlexusConfigurationException($"Plexus:Demo:Namespace is '{ns}'; use 1 to 64 ASCII letters, digits, '-', '_' or '.'.");
            }

            services.AddPlexusEndpoint<EchoHandler>($"{ns}/echo/echo");
            services.AddPlexusEndpoint<GenerateHandler>($"{ns}/echo/generate");
            services.AddPlexusEndpoint<RelayHandler>($"{ns}/echo/relay");
        }

        return services;
    }
}
