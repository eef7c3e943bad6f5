using Plexus.Transport.Quic.Connections;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// <c>Tls:Mode=cluster</c>: the node's cluster certificate as the server's credentials, replaced for new connections
/// when the identity renews it.
/// </summary>
internal sealed partial class QuicServer
{
    // One renewal at a time, so that a slower one cannot put back an older certificate.
    private readonly Lock _renewal = new();

    private QuicTlsCredentials ClusterServerCredentials(ClusterCertificate cluster)
    {
        try
        {
            return QuicTlsMaterial.CreateClusterServerCredentials(cluster);
        }
        catch (QuicTlsException exception)
        {
            throw QuicTransportOptions.Unusable("Tls:Mode", "cluster", $"GnuTLS could not use this node's cluster certificate ({cluster.Certificate.Subject}): {exception.Message}");
        }
    }

    // Raised by the identity, on its thread: builds credentials for the new certificate and gives them to the listener
    // for the connections it accepts from now on. Open connections keep the credentials they were made with: each
    // holds its own until it is freed, and the SafeHandle releases them after the last (as a client's replaced
    // ephemeral credentials are). Nothing may escape to the identity.
    private void OnClusterCertificateChanged(object? sender, EventArgs e)
    {
        try
        {
            lock (_renewal)
            {
                var current = _tls.Identity?.Current;
                lock (_gate)
                {
                    if (current is null || _listener is null || _state == ServerState.Closed || ReferenceEquals(_credentials?.Cluster, current))
                    {
                        return;
                    }
                }

                var fresh = QuicTlsMaterial.CreateClusterServerCredentials(current);
                QuicListener? listener;
                lock (_gate)
                {
                    listener = _listener;
                    if (listener is null || _state == ServerState.Closed)
                    {
                        fresh.Dispose();
                        return;
                    }

                    _credentials = fresh;
                }

                listener.UseCredentials(fresh);
                QuicLog.ClusterCertificateRenewed(_logger, Address, current.Certificate.Subject, current.Certificate.SerialNumber, current.NotAfter);
            }
        }
        catch (Exception exception)
        {
            QuicLog.ClusterRenewalFailed(_logger, Address, exception.Message);
        }
    }
}
