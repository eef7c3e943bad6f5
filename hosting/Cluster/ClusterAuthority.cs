using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// The cluster's certificate authority, held by the seed: an ECDSA P-256 key and a self-signed certificate that is
/// valid for <see cref="ClusterOptions.CaLifetime"/>. It signs members' certificate requests; their keys never leave them.
/// </summary>
internal sealed class ClusterAuthority : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    private readonly ECDsa _key;

    private ClusterAuthority(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        _key = key;
    }

    /// <summary>The CA certificate, without its key.</summary>
    public X509Certificate2 Certificate { get; }

    public static ClusterAuthority Create(string clusterId, TimeSpan lifetime, DateTimeOffset now)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Plexus cluster {clusterId}, O=Plexus", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var signed = request.CreateSelfSigned(now.AddMinutes(-5), now + lifetime);
        return new ClusterAuthority(X509CertificateLoader.LoadCertificate(signed.RawData), key);
    }

    /// <summary>Loads a CA the seed persisted.</summary>
    /// <exception cref="CryptographicException">The files do not hold a matching certificate and key.</exception>
    public static ClusterAuthority Load(string certificatePem, string keyPem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(keyPem);
        var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var pub = certificate.GetECDsaPublicKey();
        if (pub is null || !pub.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            key.Dispose();
            throw new CryptographicException("The CA certificate and key do not belong together.");
        }

        return new ClusterAuthority(certificate, key);
    }

    public string CertificatePem => Certificate.ExportCertificatePem();

    public string KeyPem => _key.ExportPkcs8PrivateKeyPem();

    /// <summary>
    /// Signs a member's PKCS#10 request (its signature proves the member holds the key) for
    /// <paramref name="lifetime"/>, never past the CA's own expiry. The subject is the member's node id; the names are
    /// the hosts it is reached at. Extensions in the request are ignored: the CA decides what a member may do.
    /// </summary>
    /// <exception cref="CryptographicException">The request is malformed or its signature is wrong.</exception>
    public X509Certificate2 Issue(byte[] signingRequest, string nodeId, IEnumerable<string> hosts, TimeSpan lifetime, DateTimeOffset now)
    {
        var loaded = CertificateRequest.LoadSigningRequest(signingRequest, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        if (loaded.PublicKey.Oid.Value != "1.2.840.10045.2.1")
        {
            throw new CryptographicException("The certificate request's key is not ECDSA.");
        }

        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(nodeId)}, O=Plexus"), loaded.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                names.AddIpAddress(ip);
            }
            else if (Uri.CheckHostName(host) == UriHostNameType.Dns)
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        var notAfter = now + lifetime;
        if (notAfter > Certificate.NotAfter)
        {
            notAfter = Certificate.NotAfter.ToUniversalTime();
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var signer = X509SignatureGenerator.CreateForECDsa(_key);
        using var issued = request.Create(Certificate.SubjectName, signer, now.AddMinutes(-5), notAfter, serial);
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    /// <summary>Makes a fresh key and a certificate request for it, as a joining member does.</summary>
    public static (ECDsa Key, byte[] Request) NewRequest(string nodeId)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Escape(nodeId)}", key, HashAlgorithmName.SHA256);
        return (key, request.CreateSigningRequest());
    }

    /// <summary>Joins an issued certificate with the key that stayed with its member.</summary>
    public static X509Certificate2 WithKey(X509Certificate2 issued, ECDsa key)
    {
        using var withKey = issued.CopyWithPrivateKey(key);

        // Through PKCS#12 so that TLS on Linux (OpenSSL) can use the key as it would a loaded certificate's.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal);

    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
    }
}
