using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane;
using Plexus.Hosting.RequestPlane.Server;
using Plexus.Host.Status;

namespace Plexus.Host.Hosting;

/// <summary>Logs the one line an operator reads first, once the node is up: who it is, how it serves, what loaded.</summary>
internal sealed partial class StartupSummary(
    IHostApplicationLifetime lifetime,
    NodeIdentity node,
    PlexusComposition composition,
    RequestPlaneServerHost server,
    StatusServer status,
    PluginCatalog plugins,
    ILogger<StartupSummary> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(Log);
        return Task.CompletedTask;
    }

    private void Log()
    {
        var loaded = new List<string>();
        var refused = new List<string>();
        foreach (var plugin in plugins.Plugins)
        {
            (plugin.Status == PluginStatus.Loaded ? loaded : refused).Add(plugin.Name);
        }

        LogSummary(
            node.Id,
            server.Endpoints.Count,
            Names(composition),
            Addresses(server),
            composition.Discovery.Name,
            loaded.Count == 0 ? "none" : string.Join(", ", loaded),
            refused.Count == 0 ? "none" : string.Join(", ", refused),
            status.Address?.ToString() ?? "off");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string Names(PlexusComposition composition)
    {
        var names = new List<string>();
        foreach (var transport in composition.ServingTransports)
        {
            names.Add(transport.Name);
        }

        return string.Join(", ", names);
    }

    private static string Addresses(RequestPlaneServerHost server)
    {
        if (server.Listeners.Count == 0)
        {
            return "(not serving)";
        }

        var addresses = new List<string>();
        foreach (var listener in server.Listeners)
        {
            addresses.Add(listener.Address.ToString());
        }

        return string.Join(", ", addresses);
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information,
        Message = "Node {NodeId} up: {Endpoints} endpoints over {Transport} at {Address}; discovery {Discovery}; plugins loaded: {Loaded}; refused: {Refused}; status {Status}")]
    private partial void LogSummary(string nodeId, int endpoints, string transport, string address, string discovery, string loaded, string refused, string status);
}
