using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A CA, a server certificate and a client certificate issued by it, and a client certificate from an unrelated CA,
/// generated for the test and written to a temporary folder as PEM and PKCS#12 files.
/// </summary>
internal sealed class CertificateFiles : IDisposable
{
    public const string PfxPassword = "test-password";

    public CertificateFiles()
    {
        Folder = Directory.CreateTempSubdirectory("plexus-tcp-tls-").FullName;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = CreateCa("Plexus Test CA", caKey);
        using var rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rogueCa = CreateCa("Somebody Else's CA", rogueKey);

        CaPath = Write("ca.pem", ca.ExportCertificatePem());
        (ServerCertificatePath, ServerKeyPath) = IssuePem(ca, caKey, "server");
        ClientPfxPath = IssuePfx(ca, caKey, "client");
        (RogueClientCertificatePath, RogueClientKeyPath) = IssuePem(rogueCa, rogueKey, "rogue-client");
    }

    public string Folder { get; }

    public string CaPath { get; }

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    public string ClientPfxPath { get; }

    public string RogueClientCertificatePath { get; }

    public string RogueClientKeyPath { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private static X509Certificate2 CreateCa(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, ECDsa caKey, string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var signer = X509CertificateLoader.LoadCertificate(ca.RawData).CopyWithPrivateKey(caKey);
        using var issued = request.Create(signer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private (string Certificate, string Key) IssuePem(X509Certificate2 ca, ECDsa caKey, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Issue(ca, caKey, name, key);
        return (Write($"{name}.pem", certificate.ExportCertificatePem()), Write($"{name}.key", key.ExportPkcs8PrivateKeyPem()));
    }

    private string IssuePfx(X509Certificate2 ca, ECDsa caKey, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Issue(ca, caKey, name, key);
        var path = Path.Combine(Folder, $"{name}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, PfxPassword));
        return path;
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, text);
        return path;
    }
}
