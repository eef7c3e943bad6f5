using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Plexus;

[assembly: PlexusPlugin("acme.greeter")]

namespace Acme.Greeter;

/// <summary>Settings of the service, bound from <c>Plexus:Services:Greeter</c>.</summary>
public sealed class GreeterOptions
{
    /// <summary>Put before the request's payload in the answer.</summary>
    public string Greeting { get; set; } = "Hello";
}

// Created and called once by the host, before any handler: binds this plugin's own section of the configuration.
internal sealed class GreeterPlugin : IPlexusPlugin
{
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration) =>
        services.Configure<GreeterOptions>(configuration.GetSection("Plexus:Services:Greeter"));
}
