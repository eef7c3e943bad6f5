using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Tcp;

/// <summary>
/// TLS with <c>Tls:Mode=cluster</c>: both sides present the node's current certificate from <see cref="IClusterIdentity"/>
/// and accept only a peer whose certificate <see cref="ClusterCertificate.TryVerifyPeer"/> accepts (issued by the cluster
/// CA, valid now). Names are not checked: in a cluster, membership is the identity. The certificate is read for each
/// handshake, so a renewal takes effect on the next connection while open ones keep theirs.
/// </summary>
internal sealed class ClusterTls
{
    private readonly IClusterIdentity? _identity;
    private PreparedClusterCertificate? _prepared;

    public ClusterTls(IClusterIdentity? identity)
    {
        _identity = identity;
    }

    /// <summary>What is missing when the node is not in a cluster: the settings that put it in one.</summary>
    public static string NotInCluster =>
        $"{TcpTransportOptions.Key("Tls:Mode")} is cluster, and Tls:Mode=cluster needs the node to be in a cluster: set Plexus:Cluster:Seed=true or Plexus:Cluster:Join=<seed address>.";

    /// <summary>Whether the node is configured for a cluster (it may not hold its certificate yet).</summary>
    public bool IsConfigured => _identity is { IsConfigured: true };

    /// <summary>Waits for the node's certificate; for a server before it listens.</summary>
    /// <exception cref="OptionsValidationException">The node is not configured for a cluster.</exception>
    public async ValueTask<ClusterCertificate> WaitForServerAsync(CancellationToken cancellationToken)
    {
        if (_identity is not { IsConfigured: true } identity)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TcpTransportOptions), [NotInCluster]);
        }

        return await identity.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The node's certificate for a client's connection, waiting for it at most <paramref name="within"/>.</summary>
    /// <exception cref="PlexusException">The node is not in a cluster or has no certificate yet (Unavailable, before the first byte).</exception>
    public ValueTask<ClusterCertificate> CurrentForClientAsync(TimeSpan within) =>
        ClusterCertificateWait.ForClientAsync(_identity, within, TcpTransportOptions.Key("Tls:Mode"), NotInCluster);

    /// <summary>
    /// Options for the server side of a handshake. A client that is not a member is let through TLS with the reason in
    /// <paramref name="refusal"/>: the server then answers its HELLO with a REJECT that says why, which TLS alone cannot
    /// tell the client, and closes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node holds no certificate (it was checked when the server started).</exception>
    public SslServerAuthenticationOptions ServerOptions(StrongBox<string?> refusal)
    {
        var prepared = Prepare(_identity?.Current ?? throw new InvalidOperationException("This node holds no cluster certificate."));
        var current = prepared.Source;
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = prepared.Context,
            ClientCertificateRequired = true,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (!Verify(current, certificate, out var problem))
                {
                    refusal.Value = problem;
                }

                return true;
            },
        };
    }

    /// <summary>Options for the client side of a handshake with <paramref name="host"/>, presenting <paramref name="current"/>.</summary>
    /// <param name="current">The node's certificate.</param>
    /// <param name="host">The server's host, sent as the server name; the certificate is not checked for it.</param>
    /// <param name="refusal">Receives why the server was refused, if it was.</param>
    public SslClientAuthenticationOptions ClientOptions(ClusterCertificate current, string host, StrongBox<string?> refusal)
    {
        var certificate = Prepare(current).Certificate;
        return new SslClientAuthenticationOptions
        {
            TargetHost = host,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ClientCertificates = [certificate],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
            RemoteCertificateValidationCallback = (_, serverCertificate, _, _) =>
            {
                if (Verify(current, serverCertificate, out var problem))
                {
                    return true;
                }

                refusal.Value = problem;
                return false;
            },
        };
    }

    private static bool Verify(ClusterCertificate current, X509Certificate? certificate, out string problem)
    {
        if (certificate is null)
        {
            return current.TryVerifyPeer(null, out problem);
        }

        if (certificate is X509Certificate2 certificate2)
        {
            return current.TryVerifyPeer(certificate2, out problem);
        }

        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return current.TryVerifyPeer(copy, out problem);
    }

    // The prepared form of the identity's current certificate, made again only when the identity renewed it.
    private PreparedClusterCertificate Prepare(ClusterCertificate current)
    {
        var prepared = Volatile.Read(ref _prepared);
        if (prepared is not null && ReferenceEquals(prepared.Source, current))
        {
            return prepared;
        }

        prepared = new PreparedClusterCertificate(current);
        Volatile.Write(ref _prepared, prepared);
        return prepared;
    }
}
