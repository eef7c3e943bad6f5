namespace Plexus.Discovery.Etcd;

/// <summary>The instances under a prefix at one revision of etcd.</summary>
/// <param name="Instances">The instances, by key.</param>
/// <param name="Revision">The revision the listing reflects: a watch from the next one misses nothing.</param>
/// <param name="ClusterId">The etcd cluster that answered; a different one later means its history is not ours.</param>
internal sealed record EtcdListing(Dictionary<string, Instance> Instances, long Revision, ulong ClusterId);
