using System.Security.Cryptography;
using Plexus.Faults.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Faults.Tests;

/// <summary>
/// A secure cluster across the lab's hosts: the seed on one, members on the others, every TCP connection on cluster
/// mutual TLS, discovery from the seed's member table. With the seed's host cut off, members keep calling each other;
/// with it back, the cluster carries on.
/// </summary>
public sealed class ClusterAcrossHostsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly EndpointAddress Relay = EndpointAddress.Parse("alpha/echo/relay");
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
    private NetworkLab _lab = null!;
    private readonly List<LabNode> _nodes = [];

    public Task InitializeAsync()
    {
        _lab = NetworkLab.Create(3);
        return Task.CompletedTask;
    }

    private string[] Settings(HostNs host, string name, params string[] more) =>
    [
        "--Plexus:RequestPlane:Transport=tcp",
        $"--Plexus:Transports:Tcp:Bind={host.Address}:0",
        "--Plexus:Transports:Tcp:Tls:Mode=cluster",
        "--Plexus:Transports:Tcp:KeepAliveInterval=500ms",
        "--Plexus:Transports:Tcp:KeepAliveTimeout=2s",
        "--Plexus:Discovery:Provider=seed",
        "--Plexus:Discovery:LeaseTtl=3s",
        "--Plexus:Cluster:MemberLease=3s",
        $"--Plexus:Cluster:Token={_token}",
        "--Plexus:Status:Enabled=false",
        "--Plexus:Demo:TokenDelay=00:00:00",
        $"--Plexus:Demo:Namespace={name}",
        $"--Plexus:NodeId={name}-node",
        .. more,
    ];

    private async Task<LabNode> StartAsync(HostNs host, string name, params string[] more)
    {
        var node = new LabNode($"{name}-node", host, Settings(host, name, more));
        _nodes.Add(node);
        await node.StartAsync();
        return node;
    }

    [Fact(Timeout = 240_000)]
    public async Task Members_on_other_hosts_join_call_each_other_on_cluster_mtls_and_keep_calling_while_the_seed_is_cut_off()
    {
        var seedHost = _lab.Hosts[0];
        var join = $"{seedHost.Address}:7300";
        var seed = await StartAsync(seedHost, "seed", "--Plexus:Cluster:Seed=true", $"--Plexus:Cluster:Listen={join}");
        var alpha = await StartAsync(_lab.Hosts[1], "alpha", $"--Plexus:Cluster:Join={join}");
        var beta = await StartAsync(_lab.Hosts[2], "beta", $"--Plexus:Cluster:Join={join}");
        Assert.Contains($"[1602] Node alpha-node joined the cluster from {_lab.Hosts[1].Address}", seed.Output, StringComparison.Ordinal);
        Assert.Contains($"[1602] Node beta-node joined the cluster from {_lab.Hosts[2].Address}", seed.Output, StringComparison.Ordinal);

        await using var client = await LabClient.StartAsync(_lab.Gateway, new Dictionary<string, string?>
        {
            ["Plexus:Cluster:Join"] = join,
            ["Plexus:Cluster:Token"] = _token,
            ["Plexus:Discovery:Provider"] = "seed",
            ["Plexus:Transports:Tcp:Tls:Mode"] = "cluster",
            ["Plexus:Server:Enabled"] = "false",
        });

        // alpha on host 1 relays to beta on host 2: two hops across the bridge, both on cluster mutual TLS.
        Assert.Equal("across", await RelayAsync(client, "across"));
        var members = await Plexus.Host.Tests.Support.HostProcess.RunAsync(TimeSpan.FromSeconds(60), ["cluster", "members", "--json", $"--Plexus:Cluster:Join={join}", $"--Plexus:Cluster:Token={_token}"]);
        Assert.True(members.ExitCode == 0, members.StandardError);
        Assert.Contains($"tcp://{_lab.Hosts[1].Address}:", members.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("?tls=true", members.StandardOutput, StringComparison.Ordinal);

        // The seed's host goes off the network: members keep the instances they know and keep calling each other.
        seedHost.LinkDown();
        var answered = 0;
        var started = DateTime.UtcNow;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(8))
        {
            Assert.Equal("still", await RelayAsync(client, "still"));
            answered++;
            await Task.Delay(200);
        }

        output.WriteLine($"{answered} relayed calls answered while the seed was cut off");
        Assert.True(answered >= 5);

        // Back on the network: the members register again with the seed and calls still work.
        seedHost.LinkUp();
        await FaultCluster.EventuallyAsync(async () => (await RelayAsync(client, "back")) == "back", "a relayed call after the seed came back", TimeSpan.FromSeconds(20));
        Assert.Equal(1, alpha.Starts);
        Assert.Equal(1, beta.Starts);
        Assert.False(seed.ExitedUnexpectedly, seed.Output);
    }

    private static async Task<string> RelayAsync(LabClient client, string text)
    {
        var headers = new Dictionary<string, string> { ["relay-to"] = "beta/echo/echo" };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await using var stream = await client.Client.CallAsync(Relay, new System.Buffers.ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(text)), new CallOptions(Headers: headers), timeout.Token);
        var reply = new System.Text.StringBuilder();
        while (await stream.MoveNextAsync(timeout.Token))
        {
            reply.Append(System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(stream.Current)));
        }

        return reply.ToString();
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            output.WriteLine($"--- {node.NodeId}\n{node.Output}");
            await node.KillAsync();
        }

        await _lab.DisposeAsync();
    }
}
