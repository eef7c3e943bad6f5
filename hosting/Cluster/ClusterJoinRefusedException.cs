namespace Plexus.Hosting.Cluster;

/// <summary>A join that cannot succeed by trying again: a proof failed or the seed refused.</summary>
internal sealed class ClusterJoinRefusedException(string message) : Exception(message);
