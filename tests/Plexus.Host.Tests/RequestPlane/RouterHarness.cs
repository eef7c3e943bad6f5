using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Hosting.Composition;
using Plexus.Host.Hosting;
using Plexus.Hosting;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane.Client;

namespace Plexus.Host.Tests.RequestPlane;

/// <summary>The real composition, router strategies and in-process discovery, with the scripted transport at the seam.</summary>
internal sealed class RouterHarness : IAsyncDisposable
{
    public static readonly EndpointAddress Endpoint = EndpointAddress.Parse("test/router/ep");

    private readonly ServiceProvider _services;
    private readonly List<IDiscoveryLease> _leases = [];

    public RouterHarness(params (string Key, string Value)[] settings)
        : this(null, settings)
    {
    }

    /// <param name="discovery">A discovery provider to use instead of the in-process one.</param>
    /// <param name="settings">Configuration on top of the harness's own.</param>
    public RouterHarness(IDiscoveryProvider? discovery, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Plexus:Discovery:Provider"] = discovery?.Name ?? "memory",
            ["Plexus:RequestPlane:Transport"] = "scripted",
            ["Plexus:Router:Seed"] = "7",
            ["Plexus:Router:DiscoveryWait"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new PluginCatalog([], NullLogger.Instance));
        services.AddSingleton<ITransportFactory>(Transport);
        if (discovery is not null)
        {
            services.AddSingleton(discovery);
        }

        services.AddPlexusRequestPlane(configuration);
        _services = services.BuildServiceProvider();
        Router = _services.GetRequiredService<PlexusClient>();
        Discovery = _services.GetRequiredService<PlexusComposition>().Discovery;
    }

    public ScriptedTransport Transport { get; } = new();

    public PlexusClient Router { get; }

    public IDiscoveryProvider Discovery { get; }

    public async Task<IDiscoveryLease> AddInstanceAsync(string host, ulong id, Func<OutgoingRequest, CancellationToken, IResponseStream> script, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Transport.Scripts[host] = script;
        var lease = await Discovery.RegisterAsync(
            new Instance(Endpoint, new InstanceId(id), "scripted", new Uri($"scripted://{host}"), metadata ?? Instance.EmptyMetadata),
            TimeSpan.FromMinutes(5),
            CancellationToken.None);
        _leases.Add(lease);
        return lease;
    }

    public async Task<List<string>> CallAsync(CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        var messages = new List<string>();
        await foreach (var message in (await Router.CallAsync(Endpoint, default, options ?? CallOptions.Default, cancellationToken)).ReadAllAsync(cancellationToken))
        {
            messages.Add(System.Text.Encoding.UTF8.GetString(message));
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lease in _leases)
        {
            await lease.DisposeAsync();
        }

        await _services.DisposeAsync();
    }
}
