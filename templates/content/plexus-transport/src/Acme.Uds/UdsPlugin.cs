using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Plexus;

[assembly: PlexusPlugin("uds")]

namespace Acme.Uds;

/// <summary>Settings of the uds transport, bound from <c>Plexus:Transports:Uds</c>.</summary>
public sealed class UdsTransportOptions
{
    /// <summary>The socket file a server listens on; empty for a new file in the temporary folder per server.</summary>
    public string? SocketPath { get; set; }
    /// <summary>The largest request payload in bytes, checked by the client and again by the server.</summary>
    public long MaxPayloadBytes { get; set; } = 256L * 1024 * 1024;
}

// Created and called once by the host: binds this plugin's own section of the configuration.
internal sealed class UdsPlugin : IPlexusPlugin
{
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration) =>
        services.Configure<UdsTransportOptions>(configuration.GetSection("Plexus:Transports:Uds"));
}
