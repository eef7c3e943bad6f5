using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus;

/// <summary>
/// A node's certificate in its cluster, with its private key, and the cluster's certificate authority, in the forms
/// transports need: <see cref="X509Certificate2"/> for .NET TLS, PEM for native TLS libraries. Since abstractions 2.6.
/// </summary>
public sealed class ClusterCertificate
{
    /// <summary>Creates the pair and keeps PEM copies.</summary>
    /// <param name="certificate">The node's certificate, with its private key (ECDSA).</param>
    /// <param name="authority">The cluster's CA certificate (public part only).</param>
    /// <exception cref="ArgumentException"><paramref name="certificate"/> has no ECDSA private key.</exception>
    public ClusterCertificate(X509Certificate2 certificate, X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authority);
        using var key = certificate.GetECDsaPrivateKey()
            ?? throw new ArgumentException("The node certificate carries no ECDSA private key.", nameof(certificate));
        Certificate = certificate;
        Authority = authority;
        CertificatePem = certificate.ExportCertificatePem();
        PrivateKeyPem = key.ExportPkcs8PrivateKeyPem();
        AuthorityPem = authority.ExportCertificatePem();
    }

    /// <summary>The node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The cluster's certificate authority.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary><see cref="Certificate"/> as PEM.</summary>
    public string CertificatePem { get; }

    /// <summary>The node's private key as PKCS#8 PEM, for native TLS libraries; keep it in memory only.</summary>
    public string PrivateKeyPem { get; }

    /// <summary><see cref="Authority"/> as PEM.</summary>
    public string AuthorityPem { get; }

    /// <summary>When the node's certificate expires.</summary>
    public DateTimeOffset NotAfter => Certificate.NotAfter.ToUniversalTime();

    /// <summary>
    /// Checks that a peer's certificate was issued by this cluster's authority and is valid now. Names are not
    /// checked: in a cluster, membership is the identity.
    /// </summary>
    /// <param name="peer">The certificate the peer presented, or null when it presented none.</param>
    /// <param name="problem">Why it is refused, in words a person can act on; empty when accepted.</param>
    /// <returns>Whether the peer is a member of this cluster.</returns>
    public bool TryVerifyPeer(X509Certificate2? peer, out string problem)
    {
        if (peer is null)
        {
            problem = "it presented no certificate; only members of the cluster, holding a certificate from its CA, are accepted (Tls:Mode=cluster)";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (!chain.Build(peer))
        {
            problem = $"its certificate ({peer.Subject}, issued by {peer.Issuer}) {Describe(chain)}; only certificates from this cluster's CA ({Authority.Subject}) are accepted (Tls:Mode=cluster)";
            return false;
        }

        var root = chain.ChainElements[^1].Certificate;
        if (!root.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span))
        {
            problem = $"its certificate ({peer.Subject}) chains to {root.Subject}, not to this cluster's CA ({Authority.Subject})";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    [SuppressMessage("Globalization", "CA1308:Normalize strings to uppercase", Justification = "Read by people.")]
    private static string Describe(X509Chain chain)
    {
        var reasons = new List<string>();
        foreach (var status in chain.ChainStatus)
        {
            reasons.Add(status.Status switch
            {
                X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain => "is not issued by this cluster's CA",
                X509ChainStatusFlags.NotTimeValid => "has expired or is not valid yet",
                _ => status.StatusInformation.Trim().TrimEnd('.').ToLowerInvariant(),
            });
        }

        return reasons.Count == 0 ? "does not chain to this cluster's CA" : string.Join(", ", reasons.Distinct());
    }
}
