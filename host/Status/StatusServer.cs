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
using Plexus.Hosting.Composition;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane;
using Plexus.Hosting.RequestPlane.Server;
using Plexus.Hosting.Telemetry;

namespace Plexus.Host.Status;

/// <summary>
/// A small Kestrel server beside the node, on loopback by default: <c>/live</c>, <c>/health</c>, <c>/metrics</c>,
/// <c>/api/node</c>, <c>/api/plugins</c>, <c>/api/instances</c> and the status page at <c>/</c>. It has its own
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
        var transport = server.TransportHealth;

        // The provider's own report (a server it cannot reach) first, then the outcome of the node's renewals.
        var discoveryHealth = composition.Discovery.Health;
        var discoveryProblem = discoveryHealth.Status != HealthStatus.Healthy ? discoveryHealth.Description : server.DiscoveryProblem;
        var status = server.IsDraining || transport is { Status: HealthStatus.Unhealthy }
            ? "unhealthy"
            : discoveryProblem is not null || transport is { Status: HealthStatus.Degraded } ? "degraded" : "healthy";
        var endpoints = new List<EndpointReport>();
        foreach (var served in server.Endpoints)
        {
            endpoints.Add(new EndpointReport(served.Instance.Endpoint.ToString(), served.Instance.Id.ToString(), served.Instance.Address.ToString()));
        }

        var report = new HealthReport(
            status,
            server.IsDraining,
            new ComponentReport(composition.ServingTransport.Name, transport?.Status.ToString().ToLowerInvariant() ?? "not serving", transport?.Description ?? string.Empty),
            new ComponentReport(
                composition.Discovery.Name,
                discoveryHealth.Status != HealthStatus.Healthy ? discoveryHealth.Status.ToString().ToLowerInvariant() : discoveryProblem is null ? "healthy" : "degraded",
                discoveryProblem ?? string.Empty),
            endpoints);
        return Results.Json(report, statusCode: status == "unhealthy" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    private IResult Metrics()
    {
        using var writer = new StringWriter();
        metrics.WriteTo(writer);
        return Results.Text(writer.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private IResult Node() => Results.Json(new NodeReport(
        node.Id,
        composition.ServingTransport.Name,
        server.Address?.ToString(),
        composition.Discovery.Name,
        composition.Router.Name,
        composition.Codec.Name,
        (long)time.GetElapsedTime(_started).TotalSeconds,
        server.IsDraining,
        Bulk()));

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
                instance.Load,
                instance.IsBusy,
                instance.Metadata.TryGetValue(InstanceMetadataKeys.Node, out var owner) ? owner : null,
                instance.Metadata));
        }

        return Results.Json(reports);
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

    private sealed record EndpointReport(string Endpoint, string Instance, string Address);

    private sealed record HealthReport(string Status, bool Draining, ComponentReport Transport, ComponentReport Discovery, List<EndpointReport> Endpoints);

    private sealed record NodeReport(string NodeId, string Transport, string? Address, string Discovery, string Router, string Codec, long UptimeSeconds, bool Draining, string Bulk);

    private sealed record InstanceReport(string Endpoint, string Instance, string Transport, string Address, double Load, bool Busy, string? Node, IReadOnlyDictionary<string, string> Metadata);
}
