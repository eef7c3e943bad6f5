namespace Plexus.Discovery.Etcd.Tests.Support;

/// <summary>Several etcd members on loopback forming one cluster; all killed and cleaned up at the end.</summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    private EtcdCluster(IReadOnlyList<EtcdProcess> members)
    {
        Members = members;
    }

    public IReadOnlyList<EtcdProcess> Members { get; }

    /// <summary>Every member's client URL.</summary>
    public IReadOnlyList<string> ClientUrls => [.. Members.Select(m => m.ClientUrl)];

    /// <summary>Starts <paramref name="size"/> members together and waits until every one serves clients.</summary>
    public static async Task<EtcdCluster> StartAsync(int size)
    {
        var peers = Enumerable.Range(0, size).Select(_ => EtcdProcess.FreePort()).ToArray();
        var initial = string.Join(',', peers.Select((p, i) => $"m{i}=http://127.0.0.1:{p}"));
        var members = peers.Select((p, i) => EtcdProcess.Create($"m{i}", initialCluster: initial, peerPort: p)).ToList();
        var cluster = new EtcdCluster(members);
        try
        {
            foreach (var member in members)
            {
                member.Launch();
            }

            await Task.WhenAll(members.Select(m => m.WaitServingAsync()));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in Members)
        {
            await member.DisposeAsync();
        }
    }
}
