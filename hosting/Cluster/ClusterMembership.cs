using System.Collections.Concurrent;

namespace Plexus.Hosting.Cluster;

/// <summary>The seed's member table: who joined, where they are reached, until when their certificates run.</summary>
internal sealed class ClusterMembership
{
    private readonly ConcurrentDictionary<string, ClusterMember> _members = new(StringComparer.Ordinal);

    /// <summary>Records that <paramref name="node"/> was heard from now.</summary>
    public void Touch(string node, string[]? addresses, DateTimeOffset? certificateExpires, DateTimeOffset now, bool seed = false) =>
        _members.AddOrUpdate(
            node,
            _ => new ClusterMember(node, addresses ?? [], certificateExpires ?? now, now, now, seed),
            (_, existing) => existing with
            {
                Addresses = addresses ?? existing.Addresses,
                CertificateExpires = certificateExpires ?? existing.CertificateExpires,
                LastSeen = now,
            });

    /// <summary>Removes the members not heard from within <paramref name="lease"/> (never the seed) and returns them.</summary>
    public List<string> Sweep(DateTimeOffset now, TimeSpan lease)
    {
        var gone = new List<string>();
        foreach (var (node, member) in _members)
        {
            if (!member.Seed && now - member.LastSeen > lease && _members.TryRemove(new KeyValuePair<string, ClusterMember>(node, member)))
            {
                gone.Add(node);
            }
        }

        return gone;
    }

    public ClusterMember[] Snapshot()
    {
        var members = _members.Values.ToArray();
        Array.Sort(members, static (a, b) => a.Seed != b.Seed ? (a.Seed ? -1 : 1) : string.CompareOrdinal(a.Node, b.Node));
        return members;
    }
}
