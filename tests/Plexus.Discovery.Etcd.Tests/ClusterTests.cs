using Plexus.Discovery.Etcd.Tests.Support;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>A three-member etcd cluster on loopback: discovery carries on while any one member is down.</summary>
public sealed class ClusterTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "clustered");

    [Fact(Timeout = 120_000)]
    public async Task Discovery_carries_on_while_each_member_in_turn_is_killed()
    {
        await using var cluster = await EtcdCluster.StartAsync(3);
        var nodeLog = new RecordingLogger();
        // A lease must outlive a leader election to survive the leader's death: etcd 3.4 loses a 2 s lease then
        // (etcdctl's keep-alive too, measured), while 5 s is enough.
        await using var node = TestEtcd.Provider(nodeLog, cluster.ClientUrls, o => o.LeaseTtl = TimeSpan.FromSeconds(5));
        await using var observer = TestEtcd.Provider(new RecordingLogger(), cluster.ClientUrls);

        await using var first = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var watch = new WatchReader(observer, Endpoint);
        var state = await watch.ReadUntilAsync([], s => s.Count == 1, TestEtcd.Wait);
        var lease = node.Session.LeaseId;
        var registered = new List<IDiscoveryLease>();

        // Whichever member carries the node's keep-alive and the observer's watch, each is killed once.
        for (var i = 0; i < cluster.Members.Count; i++)
        {
            var member = cluster.Members[i];
            watch.KeepReading();
            nodeLog.Note($"killing {member.Name}");
            await member.KillAsync();

            var id = 10ul + (ulong)i;
            registered.Add(await node.RegisterAsync(TestEtcd.Instance(Endpoint, id), TimeSpan.FromSeconds(10), CancellationToken.None));
            state = await watch.ReadUntilAsync(state, s => s.ContainsKey(new InstanceId(id)), TestEtcd.Wait);

            var load = $"0.{i + 1}";
            await TestEtcd.EventuallyAsync(
                async () =>
                {
                    try
                    {
                        await first.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = load }, CancellationToken.None);
                        return true;
                    }
                    catch (PlexusException)
                    {
                        return false;
                    }
                },
                $"an update is published with member {member.Name} down");
            state = await watch.ReadUntilAsync(state, s => s[new InstanceId(1)].Load == double.Parse(load, System.Globalization.CultureInfo.InvariantCulture), TestEtcd.Wait);
            Assert.Equal(i + 2, (await observer.ListAsync(Endpoint, CancellationToken.None)).Count);

            await member.RestartAsync();
            nodeLog.Note($"restarted {member.Name}");
        }

        // The lease lived through it all: the keep-alive moved between members in time.
        Assert.True(lease == node.Session.LeaseId && nodeLog.Count(2303) == 0, $"the lease was lost; the node's log:\n{nodeLog}");
        Assert.Equal(4, state.Count);
        foreach (var lease2 in registered)
        {
            await lease2.DisposeAsync();
        }
    }
}
