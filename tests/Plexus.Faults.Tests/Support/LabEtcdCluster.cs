using dotnet_etcd;
using Etcdserverpb;

namespace Plexus.Faults.Tests.Support;

/// <summary>A three-member (or any size) etcd cluster, one member on each of the given lab hosts.</summary>
public sealed class LabEtcdCluster
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private LabEtcdCluster(IReadOnlyList<LabEtcdMember> members)
    {
        Members = members;
    }

    public IReadOnlyList<LabEtcdMember> Members { get; }

    /// <summary>Every member's client URL, comma-separated, as <c>Plexus:Discovery:Etcd:Endpoints</c> takes them.</summary>
    public string Endpoints => string.Join(',', Members.Select(m => m.ClientUrl));

    /// <summary>The client URLs of the members that run.</summary>
    public string RunningEndpoints => string.Join(',', Members.Where(m => m.IsRunning).Select(m => m.ClientUrl));

    /// <summary>Starts one member per host together and waits until every one serves clients.</summary>
    /// <remarks>The processes belong to the lab, which kills them when it is disposed, whatever happens here.</remarks>
    public static async Task<LabEtcdCluster> StartAsync(NetworkLab lab, IEnumerable<HostNs> hosts)
    {
        var on = hosts.ToList();
        var initial = string.Join(',', on.Select(h => $"m{h.Index}=http://{h.Address}:2380"));
        var members = on.Select(h => new LabEtcdMember($"m{h.Index}", h, initial, Path.Combine(lab.Directory, $"etcd-m{h.Index}"))).ToList();
        foreach (var member in members)
        {
            member.Launch();
        }

        await Task.WhenAll(members.Select(m => m.WaitServingAsync(StartTimeout)));
        return new LabEtcdCluster(members);
    }

    /// <summary>The member that leads the cluster now, as the running members report it.</summary>
    public async Task<LabEtcdMember> LeaderAsync()
    {
        foreach (var member in Members.Where(m => m.IsRunning))
        {
            using var client = new EtcdClient(member.ClientUrl);
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var status = await client.StatusAsync(new StatusRequest(), cancellationToken: giveUp.Token);
            if (status.Leader == status.Header.MemberId)
            {
                return member;
            }
        }

        throw new InvalidOperationException("No running etcd member says it leads the cluster.");
    }
}
