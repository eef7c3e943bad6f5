using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Host.Tests.Support;
using Plexus.Router.Affinity.Tests.Support;

namespace Plexus.Router.Affinity.Tests.EndToEnd;

/// <summary>
/// Three real nodes serving a prefix-cache service that publishes the blocks it holds as discovery metadata, and a
/// client in this process routing with the <c>prefix</c> strategy from the plugin folder dropped in: requests that
/// share a prefix go to the node that served it before, until that node's load passes the bound.
/// </summary>
public sealed class ThreeNodePrefixTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly EndpointAddress Generate = EndpointAddress.Parse("kv/cache/generate");
    private readonly TempFolder _temp = new();
    private readonly string _discovery;
    private readonly string _plugins;

    public ThreeNodePrefixTests()
    {
        _discovery = _temp.Folder("discovery");
        _plugins = _temp.Folder("plugins");
        TempFolder.CopyPlugin(PluginFolders.Test("prefix-cache"), _plugins, "prefix-cache");
        TempFolder.CopyPlugin(PluginFolders.Host("affinity"), _plugins, "affinity");
    }

    private string[] NodeSettings(string name) =>
    [
        "--Plexus:RequestPlane:Transport=tcp",
        "--Plexus:Discovery:Provider=file",
        $"--Plexus:Discovery:File:Directory={_discovery}",
        "--Plexus:Discovery:File:PollInterval=50ms",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        $"--Plexus:Plugins:Paths:0={PluginFolders.Test("prefix-cache")}",
        "--Plexus:Endpoints:Include:0=kv/*/*",
        $"--Plexus:NodeId={name}",
    ];

    [Fact]
    public async Task Requests_sharing_a_prefix_go_to_the_node_that_served_it_until_its_load_passes_the_bound()
    {
        await using var a = await NodeProcess.StartAsync(Timeout, NodeSettings("node-a"));
        await using var b = await NodeProcess.StartAsync(Timeout, NodeSettings("node-b"));
        await using var c = await NodeProcess.StartAsync(Timeout, NodeSettings("node-c"));
        using var client = await StartClientAsync();
        using var probe = new ClientProbe(client.Services.GetRequiredService<IMeterFactory>());
        var plexus = client.Services.GetRequiredService<IPlexusClient>();
        var conversation = Routers.Chain("a long system prompt", 8);

        // Nobody holds the prefix yet: some node serves it and publishes the four blocks.
        var home = await CallAsync(plexus, conversation[..4]);

        // Until the client's discovery watch has the update, requests without blocks (which publish nothing) go by
        // two choices; each pick also reads the candidates' metadata into the index.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (probe.IndexBlocks() < 4)
        {
            Assert.True(waited.Elapsed < Timeout, "the client's index never saw the published blocks");
            await CallAsync(plexus, null);
            await Task.Delay(50);
        }

        // The conversation goes on: each turn extends the prefix, and each lands where the prefix is.
        for (var turn = 5; turn <= 8; turn++)
        {
            Assert.Equal(home, await CallAsync(plexus, conversation[..turn]));
        }

        Assert.True(probe.Of("prefix/hit") >= 4, $"hits counted: {probe.Of("prefix/hit")}");

        // Held open, the requests stay in flight. With ε = 1 and three nodes the bound is ceil(2 × (in flight + 1) / 3):
        // home takes the first two, and the third, at home's bound of 2, goes elsewhere.
        var held = new List<IResponseStream>();
        var elsewhereNode = "";
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var (stream, node) = await HoldAsync(plexus, conversation);
                held.Add(stream);
                Assert.Equal(home, node);
            }

            var (overflow, elsewhere) = await HoldAsync(plexus, conversation);
            held.Add(overflow);
            elsewhereNode = elsewhere;
            Assert.NotEqual(home, elsewhere);
            Assert.Contains(elsewhere, new[] { "node-a", "node-b", "node-c" });
            Assert.True(probe.Of("prefix/skip") >= 1, "the bounded-load skip was not counted");
        }
        finally
        {
            foreach (var stream in held)
            {
                await stream.DisposeAsync();
            }
        }

        // Load gone, the prefix goes to a node that holds it: home, or the one that took the overflow (and so cached it
        // too, tying with home), never the third.
        var third = new[] { "node-a", "node-b", "node-c" }.Single(n => n != home && n != elsewhereNode);
        Assert.NotEqual(third, await CallAsync(plexus, conversation));
    }

    private async Task<IHost> StartClientAsync()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:RequestPlane:Transport"] = "tcp",
            ["Plexus:Discovery:Provider"] = "file",
            ["Plexus:Discovery:File:Directory"] = _discovery,
            ["Plexus:Discovery:File:PollInterval"] = "50ms",
            ["Plexus:Server:Enabled"] = "false",
            ["Plexus:Router:Strategy"] = "prefix",
            ["Plexus:Routers:Affinity:LoadBound"] = "1",
            ["Plexus:Plugins:Paths:0"] = Path.Combine(_plugins, "affinity"),
            ["Plexus:Plugins:Paths:1"] = PluginFolders.Host("tcp"),
            ["Plexus:Plugins:Paths:2"] = PluginFolders.Host("twopart"),
            ["Plexus:Plugins:Required:0"] = "affinity",
        });
        builder.AddPlexus();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<string> CallAsync(IPlexusClient plexus, ulong[]? blocks)
    {
        var headers = blocks is null ? null : new Dictionary<string, string> { [AffinityHeaders.PrefixBlocks] = PrefixBlocks.Format(blocks) };
        var reply = await plexus.CallUnaryAsync(Generate, ReadOnlyMemory<byte>.Empty, new CallOptions(headers, TimeSpan.FromSeconds(30)));
        return Encoding.UTF8.GetString(reply);
    }

    private static async Task<(IResponseStream Stream, string Node)> HoldAsync(IPlexusClient plexus, ulong[] blocks)
    {
        var headers = new Dictionary<string, string> { [AffinityHeaders.PrefixBlocks] = PrefixBlocks.Format(blocks), ["hold"] = "1" };
        var stream = await plexus.CallAsync(Generate, ReadOnlySequence<byte>.Empty, new CallOptions(headers, TimeSpan.FromSeconds(60)));
        Assert.True(await stream.MoveNextAsync(CancellationToken.None));
        return (stream, Encoding.UTF8.GetString(stream.Current.ToArray()));
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>The client's routing metrics, read through its own meter factory.</summary>
    private sealed class ClientProbe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _decisions = [];
        private long _blocks;

        public ClientProbe(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Plexus.Routing" && ReferenceEquals(instrument.Meter.Scope, scope))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                if (instrument.Name == "plexus.router.prefix.index_blocks")
                {
                    Interlocked.Exchange(ref _blocks, value);
                    return;
                }

                string? reason = null, strategy = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "reason")
                    {
                        reason = tag.Value as string;
                    }
                    else if (tag.Key == "strategy")
                    {
                        strategy = tag.Value as string;
                    }
                }

                lock (_decisions)
                {
                    var key = $"{strategy}/{reason}";
                    _decisions[key] = _decisions.GetValueOrDefault(key) + value;
                }
            });
            _listener.Start();
        }

        public long IndexBlocks()
        {
            _listener.RecordObservableInstruments();
            return Interlocked.Read(ref _blocks);
        }

        public long Of(string key)
        {
            lock (_decisions)
            {
                return _decisions.GetValueOrDefault(key);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
