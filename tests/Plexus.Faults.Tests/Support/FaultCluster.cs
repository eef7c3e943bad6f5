using System.Globalization;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// The fault tests' cluster: a <see cref="NetworkLab"/> of three hosts, a three-member etcd cluster with one member on
/// each, Plexus nodes on the hosts (TCP, etcd discovery, the demo endpoints under <c>faults/</c>), and a
/// <see cref="LabClient"/> in the test process. Keep-alive and lease settings are short so that the bounds the tests
/// assert are tight. Disposing removes all of it, whatever state a failing test left it in.
/// </summary>
public sealed class FaultCluster : IAsyncDisposable
{
    /// <summary>The nodes' lease TTL: etcd deletes a node's instances this long after its last renewal.</summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(5);

    /// <summary>Idle time after which either side of a TCP connection pings.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Silence after which either side of a TCP connection counts its peer as dead.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the client waits for TCP to connect (a cut-off host answers nothing).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// What etcd may add to a lease when its leader is lost: the others notice after an election timeout (1 s, with
    /// randomness), elect a new leader, and that one gives every lease its full time to live again.
    /// </summary>
    public static readonly TimeSpan LeaderElection = TimeSpan.FromSeconds(3);

    /// <summary>
    /// What a bound may add for a busy two-core machine running three etcd members, three .NET nodes and the tests:
    /// enough for scheduling delays, far below what a missing mechanism would cost (a hang, a 15 s default, a lease of
    /// its own).
    /// </summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    public static readonly EndpointAddress Echo = EndpointAddress.Parse("faults/echo/echo");
    public static readonly EndpointAddress Generate = EndpointAddress.Parse("faults/echo/generate");

    private readonly List<LabNode> _nodes = [];
    private readonly List<IAsyncDisposable> _owned = [];

    private FaultCluster(NetworkLab lab)
    {
        Lab = lab;
        Prefix = $"/plexus-faults-{lab.Tag}";
    }

    public NetworkLab Lab { get; }

    public LabEtcdCluster Etcd { get; private set; } = null!;

    public LabClient Client { get; private set; } = null!;

    /// <summary>The etcd key prefix of this cluster's nodes.</summary>
    public string Prefix { get; }

    public IReadOnlyList<LabNode> Nodes => _nodes;

    /// <summary>Makes the lab and the etcd cluster and starts the client; nodes come with <see cref="StartNodeAsync"/>.</summary>
    public static async Task<FaultCluster> StartAsync()
    {
        var cluster = new FaultCluster(NetworkLab.Create(hosts: 3));
        try
        {
            cluster.Etcd = await LabEtcdCluster.StartAsync(cluster.Lab, cluster.Lab.Hosts);
            cluster.Client = await LabClient.StartAsync(cluster.Lab.Gateway, new Dictionary<string, string?>
            {
                ["Plexus:Discovery:Provider"] = "etcd",
                ["Plexus:Discovery:Etcd:Endpoints"] = cluster.Etcd.Endpoints,
                ["Plexus:Discovery:Etcd:Prefix"] = cluster.Prefix,
                ["Plexus:Discovery:Etcd:LeaseTtl"] = Format(LeaseTtl),
                ["Plexus:Transports:Tcp:KeepAliveInterval"] = Format(KeepAliveInterval),
                ["Plexus:Transports:Tcp:KeepAliveTimeout"] = Format(KeepAliveTimeout),
                ["Plexus:Transports:Tcp:ConnectTimeout"] = Format(ConnectTimeout),
            });
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Starts a node on <paramref name="host"/> and waits until it serves and has registered.</summary>
    /// <param name="more">More settings, over the common ones (<c>--Plexus:…=…</c>).</param>
    public async Task<LabNode> StartNodeAsync(HostNs host, string nodeId, params string[] more)
    {
        string[] args =
        [
            "--Plexus:RequestPlane:Transport=tcp",
            "--Plexus:Discovery:Provider=etcd",
            $"--Plexus:Discovery:Etcd:Endpoints={Etcd.Endpoints}",
            $"--Plexus:Discovery:Etcd:Prefix={Prefix}",
            $"--Plexus:Discovery:Etcd:LeaseTtl={Format(LeaseTtl)}",
            $"--Plexus:Transports:Tcp:Bind={host.Address}:7400",
            $"--Plexus:Transports:Tcp:KeepAliveInterval={Format(KeepAliveInterval)}",
            $"--Plexus:Transports:Tcp:KeepAliveTimeout={Format(KeepAliveTimeout)}",
            "--Plexus:Endpoints:Namespace=faults",
            $"--Plexus:NodeId={nodeId}",
            "--Plexus:Demo:TokenDelay=50ms",
            "--Plexus:Status:Url=http://127.0.0.1:0",
            .. more,
        ];
        var node = new LabNode(nodeId, host, args);
        _nodes.Add(node);
        await node.StartAsync();
        return node;
    }

    /// <summary>Something to dispose with the cluster (a relay).</summary>
    public T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>The instances etcd holds under the cluster's prefix, read through the members that run.</summary>
    public Task<IReadOnlyList<Instance>> InstancesAsync(string? endpoints = null) =>
        Registrations.ListAsync(endpoints ?? Etcd.RunningEndpoints, Prefix);

    /// <summary>The instance of <paramref name="endpoint"/> that <paramref name="node"/> registered, once it is in etcd.</summary>
    public async Task<InstanceId> InstanceOfAsync(LabNode node, EndpointAddress endpoint)
    {
        InstanceId? found = null;
        await EventuallyAsync(
            async () =>
            {
                found = (await InstancesAsync()).Of(node.NodeId).FirstOrDefault(i => i.Endpoint == endpoint)?.Id;
                return found is not null;
            },
            $"{node.NodeId} has registered {endpoint}",
            TimeSpan.FromSeconds(30));
        return found!.Value;
    }

    /// <summary>Waits until the client has reached <paramref name="instance"/> with a unary call.</summary>
    public Task WaitUntilServedAsync(InstanceId instance) =>
        EventuallyAsync(
            async () =>
            {
                try
                {
                    await Client.Client.CallUnaryAsync(Echo, "ready?"u8.ToArray(), new CallOptions(Timeout: TimeSpan.FromSeconds(5), Instance: instance));
                    return true;
                }
                catch (PlexusException)
                {
                    return false;
                }
            },
            $"the client reaches instance {instance}",
            TimeSpan.FromSeconds(30));

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; fails naming <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan within)
    {
        var giveUp = DateTime.UtcNow + within;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, $"timed out after {within.TotalSeconds} s waiting until {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>The nodes' discovery, transport and warning lines, for a test's output: what a failure needs explained.</summary>
    public string NodeEvents()
    {
        var lines = new System.Text.StringBuilder();
        foreach (var node in _nodes)
        {
            foreach (var line in node.Output.Split('\n'))
            {
                if (line.Contains("[23", StringComparison.Ordinal) || line.Contains("[30", StringComparison.Ordinal) || line.Contains("warn", StringComparison.OrdinalIgnoreCase) || line.Contains("fail", StringComparison.OrdinalIgnoreCase))
                {
                    lines.Append(node.NodeId).Append(": ").AppendLine(line.TrimEnd());
                }
            }
        }

        return lines.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        // The lab kills every process (nodes, etcd) and deletes namespaces, links and files, even if a step here fails.
        try
        {
            if (Client is not null)
            {
                await Client.DisposeAsync();
            }

            foreach (var owned in _owned)
            {
                await owned.DisposeAsync();
            }
        }
        finally
        {
            await Lab.DisposeAsync();
        }
    }

    private static string Format(TimeSpan duration) => $"{duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms";
}
