using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A cluster CA made for a test, and node certificates it issues (ECDSA P-256, server and client authentication), as
/// the cluster component of a host would; also certificates from nowhere (self-signed) for nodes outside the cluster.
/// Shared with the QUIC tests.
/// </summary>
internal sealed class ClusterCertificates : IDisposable
{
    private readonly ECDsa _caKey;

    public ClusterCertificates(string name = "Plexus Test Cluster CA")
    {
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        // The public part only, as a node holds it.
        Authority = X509CertificateLoader.LoadCertificate(withKey.RawData);
    }

    /// <summary>The cluster CA's certificate.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>A node certificate from this CA, with its key, naming the node and 10.99.99.99 (and <paramref name="address"/>).</summary>
    public ClusterCertificate Issue(string node, string? address = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = NodeRequest(node, key, address);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(
            Authority.SubjectName,
            X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddMinutes(-5),
            DateTimeOffset.UtcNow.AddDays(7),
            serial);
        return new ClusterCertificate(issued.CopyWithPrivateKey(key), Authority);
    }

    /// <summary>A node certificate signed by its own key: what a node that made itself a certificate presents.</summary>
    /// <param name="node">Its name.</param>
    /// <param name="authority">The authority the node believes in; the cluster's CA to make a node think itself a member.</param>
    public static ClusterCertificate SelfMade(string node, X509Certificate2? authority = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = NodeRequest(node, key);
        var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
        return new ClusterCertificate(self, authority ?? X509CertificateLoader.LoadCertificate(self.RawData));
    }

    /// <summary>Writes the CA as PEM to a temporary file, for a client that trusts the cluster's CA from a file.</summary>
    public string WriteAuthorityPem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"plexus-cluster-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, Authority.ExportCertificatePem());
        return path;
    }

    public void Dispose()
    {
        _caKey.Dispose();
        Authority.Dispose();
    }

    private static CertificateRequest NodeRequest(string node, ECDsa key, string? address = null)
    {
        var request = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));

        // The names a cluster gives its nodes; cluster mode does not check them, and the tests use other ones too.
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(node);
        names.AddIpAddress(IPAddress.Parse("10.99.99.99"));
        if (address is not null)
        {
            names.AddIpAddress(IPAddress.Parse(address));
        }

        request.CertificateExtensions.Add(names.Build());
        return request;
    }
}
