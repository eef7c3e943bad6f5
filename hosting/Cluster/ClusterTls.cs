using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Hosting.Cluster;

/// <summary>Mutual TLS between a member and the seed's control port, both sides holding certificates from the cluster CA.</summary>
internal static class ClusterTls
{
    public static async Task<SslStream> AuthenticateAsServerAsync(Stream stream, ClusterCertificate current, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            string? refused = null;
            await ssl.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = SslStreamCertificateContext.Create(current.Certificate, [current.Authority], offline: true),
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => current.TryVerifyPeer(certificate as X509Certificate2, out refused),
                },
                cancellationToken);
            return ssl;
        }
        catch (AuthenticationException ex)
        {
            await ssl.DisposeAsync();
            throw new AuthenticationException($"the member's TLS handshake failed: {ex.Message}", ex);
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }

    public static async Task<SslStream> AuthenticateAsClientAsync(Stream stream, string host, ClusterCertificate current, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        string refused = string.Empty;
        try
        {
            await ssl.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    EnabledSslProtocols = SslProtocols.Tls13,
                    ClientCertificateContext = SslStreamCertificateContext.Create(current.Certificate, [current.Authority], offline: true),
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => current.TryVerifyPeer(certificate as X509Certificate2, out refused),
                },
                cancellationToken);
            return ssl;
        }
        catch (AuthenticationException ex)
        {
            await ssl.DisposeAsync();
            throw new PlexusException(
                PlexusErrorCode.Unavailable,
                refused.Length > 0 ? $"The seed at {host} is not of this cluster: {refused}." : $"TLS with the seed at {host} failed: {ex.Message}");
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }
}
