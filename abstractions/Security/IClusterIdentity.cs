namespace Plexus;

/// <summary>
/// This node's certificate in its Plexus cluster (<c>Plexus:Cluster</c>): issued by the cluster's certificate
/// authority when the node joined (or made by the seed for itself), renewed before it expires. Transports with
/// <c>Tls:Mode=cluster</c> present it and accept only peers whose certificates chain to the same authority. The host
/// registers one; inject it. Since abstractions 2.6.
/// </summary>
public interface IClusterIdentity
{
    /// <summary>Whether this node is configured to be in a cluster (<c>Plexus:Cluster:Seed</c> or <c>Plexus:Cluster:Join</c>).</summary>
    bool IsConfigured { get; }

    /// <summary>The current certificate; null until the node has joined, or when it is not configured for a cluster.</summary>
    ClusterCertificate? Current { get; }

    /// <summary>
    /// Raised after <see cref="Current"/> changed (a renewal): new connections use the new certificate, connections
    /// already open keep theirs. Handlers must not throw or block.
    /// </summary>
    event EventHandler? Changed;

    /// <summary>Waits until the node holds a certificate.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The current certificate.</returns>
    /// <exception cref="PlexusException">The node is not configured for a cluster, or joining failed for good; the message says what to set.</exception>
    ValueTask<ClusterCertificate> WaitAsync(CancellationToken cancellationToken);
}
