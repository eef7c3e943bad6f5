using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Bulk;
using Plexus.Hosting.Cluster;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane;
using Plexus.Hosting.RequestPlane.Server;
using Plexus.Hosting.Telemetry;

namespace Plexus.Host.Status;

/// <summary>
/// A small Kestrel server beside the node, on loopback by default: <c>/live</c>, <c>/health</c>, <c>/metrics</c>,
/// <c>/api/node</c>, <c>/api/plugins</c>, <c>/api/instances</c>, <c>/api/cluster</c> and the status page at <c>/</c>. It has its own
/// pipeline and no request-plane traffic goes through it.
/// </summary>
internal sealed partial class StatusServer(
    IOptions<StatusOptions> options,
    RequestPlaneServerHost server,
    PlexusComposition composition,
    PluginCatalog plugins,
    MetricsCollector metrics,
    NodeIdentity node,
    BulkPath bulk,
    ClusterNode cluster,
    ClusterIdentity clusterIdentity,
    TimeProvider time,
    ILogger<StatusServer> logger) : IHostedLifecycleService, IAsyncDisposable
{
    private readonly long _started = time.GetTimestamp();
    private WebApplication? _app;

    /// <summary>The address the server listens on, once started.</summary>
    public Uri? Address { get; private set; }

    // Listens before any hosted service starts and stops after every one stopped, so /health answers 503 for the
    // whole drain whatever order the services were registered in.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Plexus.Host.Status", Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(options.Value.Url);
        var app = builder.Build();
        app.MapGet("/live", static () => Results.Json(new LiveReport("live")));
        app.MapGet("/health", Health);
        app.MapGet("/metrics", Metrics);
        app.MapGet("/api/node", Node);
        app.MapGet("/api/plugins", Plugins);
        app.MapGet("/api/instances", InstancesAsync);
        app.MapGet("/api/cluster", Cluster);
        app.MapGet("/", static () => Results.Content(StatusPage.Html, "text/html; charset=utf-8"));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            throw new PlexusConfigurationException($"The status server cannot listen on {options.Value.Url}: {ex.Message.TrimEnd('.')}. Set Plexus:Status:Url to a free port (port 0 picks one) or Plexus:Status:Enabled to false.");
        }

        _app = app;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        Address = addresses is { Count: > 0 } ? new Uri(addresses.First()) : new Uri(options.Value.Url);
        LogListening(Address);
    }

    private IResult Health()
    {
        var listeners = server.Listeners;
        var transports = new List<ListenerReport>(listeners.Count);
        int unhealthy = 0, degraded = 0;
        foreach (var listener in listeners)
        {
            var health = listener.Health;
            unhealthy += health.Status == HealthStatus.Unhealthy ? 1 : 0;
            degraded += health.Status == HealthStatus.Degraded ? 1 : 0;
            transports.Add(new ListenerReport(listener.Transport, health.Status.ToString().ToLowerInvariant(), health.Description, listener.Address.ToString()));
        }

        // The provider's own report (a server it cannot reach) first, then the outcome of the node's renewals.
        var discoveryHealth = composition.Discovery.Health;
        var discoveryProblem = discoveryHealth.Status != HealthStatus.Healthy ? discoveryHealth.Description : server.DiscoveryProblem;

        // A node is unhealthy when no transport can take requests; one of several down leaves it degraded, still serving.
        var status = server.IsDraining || (listeners.Count > 0 && unhealthy == listeners.Count)
            ? "unhealthy"
            : discoveryProblem is not null || unhealthy > 0 || degraded > 0 ? "degraded" : "healthy";
        var endpoints = new List<EndpointReport>();
        foreach (var served in server.Endpoints)
        {
            endpoints.Add(new EndpointReport(served.Instance.Endpoint.ToString(), served.Instance.Id.ToString(), served.Instance.Address.ToString(), Addresses(served.Instance)));
        }

        var first = transports.Count > 0
            ? new ComponentReport(transports[0].Name, transports[0].Status, transports[0].Description)
            : new ComponentReport(composition.ServingTransport.Name, "not serving", string.Empty);
        var report = new HealthReport(
            status,
            server.IsDraining,
            first,
            transports,
            new ComponentReport(
                composition.Discovery.Name,
                discoveryHealth.Status != HealthStatus.Healthy ? discoveryHealth.Status.ToString().ToLowerInvariant() : discoveryProblem is null ? "healthy" : "degraded",
                discoveryProblem ?? string.Empty),
            endpoints);
        return Results.Json(report, statusCode: status == "unhealthy" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    private static List<string> Addresses(Instance instance)
    {
        var addresses = new List<string>(instance.Addresses.Count);
        foreach (var entry in instance.Addresses)
        {
            addresses.Add(entry.Address.ToString());
        }

        return addresses;
    }

    private IResult Cluster() => Results.Json(new ClusterReport(
        cluster.Role,
        cluster.ClusterId,
        cluster.JoinAddress,
        cluster.AuthorityExpires,
        clusterIdentity.Current?.NotAfter,
        cluster.Members));

    private IResult Metrics()
    {
        using var writer = new StringWriter();
        metrics.WriteTo(writer);
        return Results.Text(writer.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private IResult Node() => Results.Json(new NodeReport(
        node.Id,
        TransportNames(),
        server.Address?.ToString(),
        Listeners(),
        composition.Discovery.Name,
        composition.Router.Name,
        composition.Codec.Name,
        (long)time.GetElapsedTime(_started).TotalSeconds,
        server.IsDraining,
        Bulk()));

    /// <summary>The transports served (or configured, before serving), in the node's order of preference.</summary>
    private string TransportNames()
    {
        var names = new List<string>();
        foreach (var transport in composition.ServingTransports)
        {
            names.Add(transport.Name);
        }

        return string.Join(", ", names);
    }

    private List<ListenerReport> Listeners()
    {
        var reports = new List<ListenerReport>(server.Listeners.Count);
        foreach (var listener in server.Listeners)
        {
            var health = listener.Health;
            reports.Add(new ListenerReport(listener.Transport, health.Status.ToString().ToLowerInvariant(), health.Description, listener.Address.ToString()));
        }

        return reports;
    }

    /// <summary>The bulk path as people read it: off, the transport and what it runs on, or why it is not available.</summary>
    private string Bulk() => !bulk.IsConfigured ? "off"
        : bulk.Transport is { } transport ? $"{transport.Name} ({transport.Details}), over {bulk.Options.Threshold} bytes"
        : $"{bulk.Options.Transport}, not available here (payloads go inline; the log says why)";

    private IResult Plugins()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            plugins.WriteJson(writer);
        }

        return Results.Bytes(stream.ToArray(), "application/json");
    }

    private async Task<IResult> InstancesAsync(CancellationToken cancellationToken)
    {
        var instances = await composition.Discovery.ListAsync(null, cancellationToken);
        var reports = new List<InstanceReport>(instances.Count);
        foreach (var instance in instances)
        {
            reports.Add(new InstanceReport(
                instance.Endpoint.ToString(),
                instance.Id.ToString(),
                instance.Transport,
                instance.Address.ToString(),
                InstanceAddresses(instance),
                instance.Load,
                instance.IsBusy,
                instance.Metadata.TryGetValue(InstanceMetadataKeys.Node, out var owner) ? owner : null,
                instance.Metadata));
        }

        return Results.Json(reports);
    }

    private static List<AddressReport> InstanceAddresses(Instance instance)
    {
        var addresses = new List<AddressReport>(instance.Addresses.Count);
        foreach (var entry in instance.Addresses)
        {
            addresses.Add(new AddressReport(entry.Transport, entry.Address.ToString()));
        }

        return addresses;
    }

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Debug, Message = "Status server listening on {Address} (/health, /metrics, /api/*, status page at /).")]
    private partial void LogListening(Uri address);

    private sealed record LiveReport(string Status);

    private sealed record ComponentReport(string Name, string Status, string Description);

    /// <summary>One transport the node serves on: <see cref="ComponentReport"/> with the address it advertises.</summary>
    private sealed record ListenerReport(string Name, string Status, string Description, string Address);

    private sealed record EndpointReport(string Endpoint, string Instance, string Address, List<string> Addresses);

    /// <summary><c>Transport</c> is the first (preferred) of <c>Transports</c>, kept for readers of one transport.</summary>
    private sealed record HealthReport(string Status, bool Draining, ComponentReport Transport, List<ListenerReport> Transports, ComponentReport Discovery, List<EndpointReport> Endpoints);

    /// <summary><c>Transport</c> names every transport served, comma-separated; <c>Address</c> is the first one's.</summary>
    private sealed record NodeReport(string NodeId, string Transport, string? Address, List<ListenerReport> Listeners, string Discovery, string Router, string Codec, long UptimeSeconds, bool Draining, string Bulk);

    /// <summary>This node's place in its cluster; <c>role</c> is <c>seed</c>, <c>member</c> or <c>none</c>.</summary>
    private sealed record ClusterReport(string Role, string? Cluster, string? JoinAddress, DateTimeOffset? AuthorityExpires, DateTimeOffset? CertificateExpires, IReadOnlyList<ClusterMember> Members);

    private sealed record AddressReport(string Transport, string Address);

    private sealed record InstanceReport(string Endpoint, string Instance, string Transport, string Address, List<AddressReport> Addresses, double Load, bool Busy, string? Node, IReadOnlyDictionary<string, string> Metadata);
}
