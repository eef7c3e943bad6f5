using System.Net.Http.Json;
using System.Text.Json;
using Plexus.Host.Tests.Support;
using Plexus.Host.Tests.Telemetry;
using Plexus.Transport.Nats.Tests;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// A mixed fleet of real nodes: one serving on TCP and QUIC at once (<c>Plexus:RequestPlane:Transports</c>), one on NATS
/// only. One registration carries every address of a node; each caller reaches an instance over the first transport of
/// its own preference list that the instance offers.
/// </summary>
public sealed class MultiTransportNodeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("plexus-multi-transport-").FullName;

    private string[] Settings(Uri natsUrl, params string[] more) =>
    [
        "--Plexus:Discovery:Provider=file",
        $"--Plexus:Discovery:File:Directory={_directory}",
        "--Plexus:Discovery:File:PollInterval=00:00:00.050",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Transports:Quic:Bind=127.0.0.1:0",
        $"--Plexus:Transports:Nats:Url={natsUrl}",
        "--Plexus:Demo:TokenDelay=00:00:00",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        .. more,
    ];

    [Fact(Timeout = 240_000)]
    public async Task A_node_on_tcp_and_quic_registers_both_addresses_and_callers_use_their_own_preference_across_a_mixed_fleet()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        await using var both = await NodeProcess.StartAsync(Timeout, Settings(nats.Url, "--Plexus:RequestPlane:Transports=tcp,quic", "--Plexus:Demo:Namespace=both", "--Plexus:NodeId=both-node"));
        await using var natsOnly = await NodeProcess.StartAsync(Timeout, Settings(nats.Url, "--Plexus:RequestPlane:Transport=nats", "--Plexus:Demo:Namespace=natsonly", "--Plexus:NodeId=nats-node"));
        Assert.Matches(@"\[1000\] Node both-node up: \d+ endpoints over tcp, quic at tcp://127\.0\.0\.1:\d+/, quic://127\.0\.0\.1:\d+/", both.Output);

        // One instance per endpoint, carrying both addresses, the node's preferred one first.
        var listed = await HostProcess.RunAsync(Timeout, ["instances", "--json", .. Settings(nats.Url)]);
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        using (var doc = JsonDocument.Parse(listed.StandardOutput))
        {
            var mine = doc.RootElement.EnumerateArray().Where(i => i.GetProperty("endpoint").GetString()!.StartsWith("both/", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, mine.Count);
            Assert.All(mine, i =>
            {
                Assert.Equal("tcp", i.GetProperty("transport").GetString());
                Assert.Equal(["tcp", "quic"], i.GetProperty("addresses").EnumerateArray().Select(a => a.GetProperty("transport").GetString()));
                Assert.StartsWith("quic://", i.GetProperty("addresses")[1].GetProperty("address").GetString(), StringComparison.Ordinal);
            });
            var others = doc.RootElement.EnumerateArray().Where(i => i.GetProperty("endpoint").GetString()!.StartsWith("natsonly/", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, others.Count);
            Assert.All(others, i => Assert.Equal(["nats"], i.GetProperty("addresses").EnumerateArray().Select(a => a.GetProperty("transport").GetString())));
        }

        // A caller preferring QUIC reaches the two-transport node over QUIC, one preferring TCP over TCP.
        var overQuic = await HostProcess.RunAsync(Timeout, ["call", "both/echo/echo", "--data", "q", .. Settings(nats.Url, "--Plexus:RequestPlane:Transports=quic,tcp")]);
        Assert.True(overQuic.ExitCode == 0, overQuic.StandardError);
        Assert.Equal("q\n", overQuic.StandardOutput);
        Assert.Equal(1, await ServedAsync(both, "both/echo/echo", "quic"));
        Assert.Equal(0, await ServedAsync(both, "both/echo/echo", "tcp"));

        var overTcp = await HostProcess.RunAsync(Timeout, ["call", "both/echo/echo", "--data", "t", .. Settings(nats.Url, "--Plexus:RequestPlane:Transport=tcp")]);
        Assert.True(overTcp.ExitCode == 0, overTcp.StandardError);
        Assert.Equal(1, await ServedAsync(both, "both/echo/echo", "tcp"));

        // A caller whose list does not name NATS still reaches the NATS-only node over NATS, loaded beside it.
        var overNats = await HostProcess.RunAsync(Timeout, ["call", "natsonly/echo/echo", "--data", "n", .. Settings(nats.Url, "--Plexus:RequestPlane:Transports=quic,tcp")]);
        Assert.True(overNats.ExitCode == 0, overNats.StandardError);
        Assert.Equal("n\n", overNats.StandardOutput);
        Assert.Equal(1, await ServedAsync(natsOnly, "natsonly/echo/echo", "nats"));

        // Node to node: the two-transport node relays to the NATS-only node, and the NATS-only node back to it over TCP,
        // the first address it offers.
        var relayed = await HostProcess.RunAsync(Timeout, ["call", "natsonly/echo/relay", "--data", "round", "--header", "relay-to=both/echo/echo", .. Settings(nats.Url, "--Plexus:RequestPlane:Transport=nats")]);
        Assert.True(relayed.ExitCode == 0, relayed.StandardError);
        Assert.Equal("round\n", relayed.StandardOutput);
        Assert.Equal(2, await ServedAsync(both, "both/echo/echo", "tcp"));

        // Health and the node report show each listener.
        using var http = new HttpClient { Timeout = Timeout };
        var health = await http.GetFromJsonAsync<JsonElement>(new Uri(both.StatusUrl, "/health"));
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        var transports = health.GetProperty("transports").EnumerateArray().ToList();
        Assert.Equal(new[] { "tcp", "quic" }, transports.Select(t => t.GetProperty("name").GetString()).ToArray());
        Assert.All(transports, t => Assert.Equal("healthy", t.GetProperty("status").GetString()));
        Assert.All(health.GetProperty("endpoints").EnumerateArray(), e => Assert.Equal(2, e.GetProperty("addresses").GetArrayLength()));
        var node = await http.GetFromJsonAsync<JsonElement>(new Uri(both.StatusUrl, "/api/node"));
        Assert.Equal("tcp, quic", node.GetProperty("transport").GetString());
        Assert.Equal(new[] { "tcp", "quic" }, node.GetProperty("listeners").EnumerateArray().Select(l => l.GetProperty("name").GetString()).ToArray());

        // Stopping drains both listeners and leaves discovery once.
        Assert.Equal(0, await both.StopAsync(Timeout));
        Assert.Contains("[1104]", both.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Both_transport_settings_in_one_source_are_refused_naming_both_keys()
    {
        var result = await HostProcess.RunAsync(Timeout, ["run", .. Settings(new Uri("nats://127.0.0.1:1"), "--Plexus:RequestPlane:Transport=tcp", "--Plexus:RequestPlane:Transports=quic,nats")]);
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("Plexus:RequestPlane:Transport ('tcp') and Plexus:RequestPlane:Transports (quic, nats) are both set", result.StandardError, StringComparison.Ordinal);
    }

    private static async Task<double> ServedAsync(NodeProcess node, string endpoint, string transport)
    {
        using var http = new HttpClient { Timeout = Timeout };
        var families = PrometheusTextParser.Parse(await http.GetStringAsync(new Uri(node.StatusUrl, "/metrics")));
        if (!families.TryGetValue("plexus_requests_total", out var requests))
        {
            return 0;
        }

        return requests.Samples
            .Where(s => s.Labels["endpoint"] == endpoint && s.Labels["side"] == "server" && s.Labels["transport"] == transport)
            .Sum(s => s.Value);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
