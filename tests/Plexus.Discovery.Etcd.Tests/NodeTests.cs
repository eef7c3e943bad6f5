using System.Net.Http.Json;
using System.Text.Json;
using Plexus.Discovery.Etcd.Tests.Support;
using Plexus.Host.Tests.Support;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>Real nodes (the host executable, with plugins/etcd beside it) using <c>Plexus:Discovery:Provider=etcd</c>.</summary>
public sealed class NodeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _prefix = $"/plexus-e2e-{Guid.NewGuid():N}";

    private string[] Settings(string endpoints, params string[] more) =>
    [
        "--Plexus:RequestPlane:Transport=tcp",
        "--Plexus:Discovery:Provider=etcd",
        $"--Plexus:Discovery:Etcd:Endpoints={endpoints}",
        $"--Plexus:Discovery:Etcd:Prefix={_prefix}",
        "--Plexus:Discovery:Etcd:LeaseTtl=5s",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Demo:TokenDelay=00:00:00",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        .. more,
    ];

    [Fact(Timeout = 180_000)]
    public async Task Two_nodes_on_tcp_find_each_other_through_etcd_and_a_call_crosses_them()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        await using var alpha = await NodeProcess.StartAsync(Timeout, Settings(etcd.ClientUrl, "--Plexus:Endpoints:Namespace=alpha", "--Plexus:NodeId=alpha-node"));
        await using var beta = await NodeProcess.StartAsync(Timeout, Settings(etcd.ClientUrl, "--Plexus:Endpoints:Namespace=beta", "--Plexus:NodeId=beta-node"));

        var listed = await HostProcess.RunAsync(Timeout, ["instances", "--json", .. Settings(etcd.ClientUrl)]);
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        using (var doc = JsonDocument.Parse(listed.StandardOutput))
        {
            var instances = doc.RootElement.EnumerateArray().ToList();
            Assert.Equal(6, instances.Count);
            Assert.All(instances, i => Assert.Equal("tcp", i.GetProperty("transport").GetString()));
            Assert.Equal(["alpha-node", "beta-node"], instances.Select(i => i.GetProperty("metadata").GetProperty("node").GetString()).Distinct().Order());
        }

        // alpha serves the call and itself calls beta: each node found the other through etcd.
        var relayed = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "over etcd", "--header", "relay-to=beta/echo/echo", .. Settings(etcd.ClientUrl)]);
        Assert.True(relayed.ExitCode == 0, relayed.StandardError);
        Assert.Equal("over etcd\n", relayed.StandardOutput);

        using var http = new HttpClient { Timeout = Timeout };
        var health = await http.GetFromJsonAsync<JsonElement>(new Uri(alpha.StatusUrl, "/health"));
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal("etcd", health.GetProperty("discovery").GetProperty("name").GetString());

        // A stopped node leaves etcd at once, not when its lease runs out.
        Assert.Equal(0, await alpha.StopAsync(Timeout));
        var after = await HostProcess.RunAsync(Timeout, ["instances", "--json", .. Settings(etcd.ClientUrl)]);
        using (var doc = JsonDocument.Parse(after.StandardOutput))
        {
            Assert.Equal(3, doc.RootElement.GetArrayLength());
            Assert.All(doc.RootElement.EnumerateArray(), i => Assert.Equal("beta-node", i.GetProperty("metadata").GetProperty("node").GetString()));
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_node_started_before_etcd_starts_reports_discovery_degraded_and_registers_when_etcd_comes_up()
    {
        var port = EtcdProcess.FreePort();
        var url = $"http://127.0.0.1:{port}";
        await using var node = await NodeProcess.StartAsync(Timeout, Settings(url, "--Plexus:NodeId=early-node"));
        using var http = new HttpClient { Timeout = Timeout };

        var health = await http.GetFromJsonAsync<JsonElement>(new Uri(node.StatusUrl, "/health"));
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var discovery = health.GetProperty("discovery");
        Assert.Equal("degraded", discovery.GetProperty("status").GetString());
        Assert.Contains($"127.0.0.1:{port}", discovery.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("[2301]", node.Output, StringComparison.Ordinal);

        await using var etcd = EtcdProcess.Create("late-node", clientPort: port);
        etcd.Launch();
        await etcd.WaitServingAsync();

        await TestEtcd.EventuallyAsync(
            async () => (await http.GetFromJsonAsync<JsonElement>(new Uri(node.StatusUrl, "/health"))).GetProperty("status").GetString() == "healthy",
            "the node reports healthy");
        var listed = await HostProcess.RunAsync(Timeout, ["instances", "--json", .. Settings(url)]);
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        using var doc = JsonDocument.Parse(listed.StandardOutput);
        Assert.Equal(3, doc.RootElement.GetArrayLength());
        Assert.Contains("[2302]", node.Output, StringComparison.Ordinal);
    }
}
