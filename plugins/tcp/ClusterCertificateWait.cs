namespace Plexus.Transport.Tcp;

/// <summary>
/// How a transport's client gets the node's cluster certificate for a connection, the same for TCP and QUIC (linked
/// into both): at once when the node holds one, else waiting for the join at most a connect's time, every failure
/// <see cref="PlexusErrorCode.Unavailable"/> before the first byte so that the caller goes elsewhere.
/// </summary>
internal static class ClusterCertificateWait
{
    /// <param name="identity">The node's identity, null when the host has none.</param>
    /// <param name="within">How long to wait for a node still joining.</param>
    /// <param name="modeKey">The transport's <c>Tls:Mode</c> key, for messages.</param>
    /// <param name="notInCluster">What to say when the node is not configured for a cluster.</param>
    /// <exception cref="PlexusException">No certificate (Unavailable, before the first byte).</exception>
    public static async ValueTask<ClusterCertificate> ForClientAsync(IClusterIdentity? identity, TimeSpan within, string modeKey, string notInCluster)
    {
        if (identity is not { IsConfigured: true })
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, notInCluster) { BeforeFirstByte = true };
        }

        if (identity.Current is { } current)
        {
            return current;
        }

        using var timeout = new CancellationTokenSource(within);
        try
        {
            return await identity.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new PlexusException(
                PlexusErrorCode.Unavailable,
                $"This node has no certificate from its cluster yet (it is still joining; waited {within.TotalMilliseconds} ms), so it cannot connect with {modeKey}=cluster. Check that the seed in Plexus:Cluster:Join is reachable.")
            {
                BeforeFirstByte = true,
            };
        }
        catch (PlexusException exception) when (!exception.BeforeFirstByte)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, exception.Message, exception) { BeforeFirstByte = true };
        }
    }
}
