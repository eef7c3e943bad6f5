using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Hosting;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane.Client;

namespace Plexus.Host.Tests.RequestPlane;

/// <summary>
/// Which of an instance's addresses the client uses: the first transport of its own list
/// (<c>Plexus:RequestPlane:Transports</c>) that the instance offers, else the first the instance offers that is loaded.
/// </summary>
public sealed class TransportPreferenceTests : IAsyncDisposable
{
    private static readonly EndpointAddress Endpoint = EndpointAddress.Parse("test/prefer/ep");
    private readonly ScriptedTransport _alpha = new("alpha");
    private readonly ScriptedTransport _beta = new("beta");
    private readonly List<IDiscoveryLease> _leases = [];
    private ServiceProvider? _services;

    private (PlexusClient Client, IDiscoveryProvider Discovery) Start(string transports)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:Discovery:Provider"] = "memory",
            ["Plexus:RequestPlane:Transports"] = transports,
            ["Plexus:Router:Seed"] = "7",
            ["Plexus:Router:DiscoveryWait"] = "00:00:00.200",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new PluginCatalog([], NullLogger.Instance));
        services.AddSingleton<ITransportFactory>(_alpha);
        services.AddSingleton<ITransportFactory>(_beta);
        services.AddPlexusRequestPlane(configuration);
        _services = services.BuildServiceProvider();
        return (_services.GetRequiredService<PlexusClient>(), _services.GetRequiredService<PlexusComposition>().Discovery);
    }

    private async Task RegisterAsync(IDiscoveryProvider discovery, ulong id, params string[] transports)
    {
        var addresses = transports.Select(t => new InstanceAddress(t, new Uri($"{t}://node-{id}"))).ToArray();
        var instance = new Instance(Endpoint, new InstanceId(id), addresses[0].Transport, addresses[0].Address) { Addresses = addresses };
        foreach (var script in new[] { _alpha, _beta })
        {
            script.Scripts[$"node-{id}"] = ScriptedTransport.Messages($"{id}");
        }

        _leases.Add(await discovery.RegisterAsync(instance, TimeSpan.FromMinutes(5), CancellationToken.None));
    }

    private static async Task<string> CallAsync(PlexusClient client, CallOptions? options = null)
    {
        await using var stream = await client.CallAsync(Endpoint, default, options);
        Assert.True(await stream.MoveNextAsync());
        return System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(stream.Current));
    }

    [Fact]
    public async Task The_first_transport_of_the_clients_list_that_the_instance_offers_wins_over_the_instances_own_order()
    {
        var (client, discovery) = Start("alpha,beta");
        await RegisterAsync(discovery, 1, "beta", "alpha");

        Assert.Equal("1", await CallAsync(client));

        Assert.Single(_alpha.Sent);
        Assert.Empty(_beta.Sent);
        Assert.Equal(new Uri("alpha://node-1"), _alpha.Sent.Single().Address);
    }

    [Fact]
    public async Task An_instance_that_offers_only_a_later_transport_of_the_list_is_reached_over_it()
    {
        var (client, discovery) = Start("alpha,beta");
        await RegisterAsync(discovery, 1, "beta");

        Assert.Equal("1", await CallAsync(client));

        Assert.Empty(_alpha.Sent);
        Assert.Single(_beta.Sent);
    }

    [Fact]
    public async Task A_transport_loaded_here_but_not_in_the_list_still_reaches_an_instance_that_offers_only_it()
    {
        var (client, discovery) = Start("alpha");
        await RegisterAsync(discovery, 1, "carrier-pigeon", "beta");

        Assert.Equal("1", await CallAsync(client));

        Assert.Equal(new Uri("beta://node-1"), _beta.Sent.Single().Address);
    }

    [Fact]
    public async Task A_mixed_fleet_routes_each_instance_over_its_own_best_transport()
    {
        var (client, discovery) = Start("alpha,beta");
        await RegisterAsync(discovery, 1, "beta");
        await RegisterAsync(discovery, 2, "beta", "alpha");

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await CallAsync(client));
        }

        Assert.Equal(2, answers.Count(a => a == "1"));
        Assert.Equal(2, answers.Count(a => a == "2"));
        Assert.All(_beta.Sent, s => Assert.Equal("node-1", s.Address.Host));
        Assert.All(_alpha.Sent, s => Assert.Equal("node-2", s.Address.Host));
        Assert.Equal(2, _alpha.Sent.Count);
    }

    [Fact]
    public async Task An_instance_offering_no_transport_loaded_here_is_refused_saying_what_it_offers()
    {
        var (client, discovery) = Start("alpha,beta");
        await RegisterAsync(discovery, 1, "carrier-pigeon", "smoke");

        var error = await Assert.ThrowsAsync<PlexusException>(() => CallAsync(client));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("offering carrier-pigeon, smoke", error.Message, StringComparison.Ordinal);
        Assert.Contains("transports loaded here: alpha, beta", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_discovery_update_that_adds_a_preferred_transport_moves_later_calls_onto_it()
    {
        var (client, discovery) = Start("alpha,beta");
        await RegisterAsync(discovery, 1, "beta");
        Assert.Equal("1", await CallAsync(client));
        Assert.Single(_beta.Sent);

        var lease = _leases[0];
        await lease.DisposeAsync();
        _leases.Clear();
        await RegisterAsync(discovery, 1, "beta", "alpha");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (_alpha.Sent.IsEmpty && DateTime.UtcNow < deadline)
        {
            await CallAsync(client);
        }

        Assert.Single(_alpha.Sent);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lease in _leases)
        {
            await lease.DisposeAsync();
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }
}
