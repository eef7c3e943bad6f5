using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Plexus.Bench;

/// <summary>
/// A Plexus node for the bulk-path scenario, built only through the library's public API as an application would:
/// a generic host with <c>AddPlexus</c>, serving the sink endpoint or calling it through <see cref="IPlexusClient"/>.
/// </summary>
internal sealed class BulkPathNode : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly IHost _host;

    private BulkPathNode(IHost host)
    {
        _host = host;
    }

    /// <summary>The node's client.</summary>
    public IPlexusClient Client => _host.Services.GetRequiredService<IPlexusClient>();

    /// <summary>The node's meter factory: the scope of its meters, so that a listener can tell its metrics from another node's.</summary>
    public IMeterFactory Meters => _host.Services.GetRequiredService<IMeterFactory>();

    /// <summary>Builds and starts a node.</summary>
    /// <param name="configurationArgs">The bench's command-line configuration (<c>--Plexus:...</c>), over <paramref name="defaults"/>.</param>
    /// <param name="defaults">Settings under everything else.</param>
    /// <param name="forced">Settings over everything else: what the measurement is about.</param>
    /// <param name="serves">Serve the sink endpoint; a calling node serves nothing and does not register.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<BulkPathNode> StartAsync(
        IReadOnlyList<string> configurationArgs,
        IReadOnlyDictionary<string, string?> defaults,
        IReadOnlyDictionary<string, string?> forced,
        bool serves,
        CancellationToken cancellationToken)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [.. configurationArgs],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "Plexus.Bench",
        });
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = defaults });
        builder.Configuration.AddInMemoryCollection(forced);
        if (!serves)
        {
            builder.Configuration.AddInMemoryCollection([new("Plexus:Server:Enabled", "false")]);
        }

        BenchHost.UseBenchLogging(builder);

        // The bench handles SIGINT and SIGTERM itself; the console lifetime would stop the node under the measurement.
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
        builder.AddPlexus();
        if (serves)
        {
            builder.Services.MapPlexusEndpoint(BulkPathSink.Endpoint, BulkPathSink.HandleAsync);
        }

        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            return new BulkPathNode(host);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(StopTimeout);
        try
        {
            await _host.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Nothing is in flight by now; a node that cannot stop in time still goes away with the host below.
        }

        _host.Dispose();
    }

    private sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
