using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// Certificates generated for a test (ECDSA P-256), written as PEM files (certificate, and PKCS#8 key) to a temporary
/// folder: a CA with a server certificate for <c>localhost</c> (SAN DNS localhost, IP 127.0.0.1 and ::1; serverAuth)
/// and a client certificate (clientAuth), and an unrelated second CA with its own server and client certificates.
/// Usable as an xunit class fixture; disposing deletes the folder.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>Generates everything into a new temporary folder.</summary>
    public TestCertificates()
    {
        Folder = Directory.CreateTempSubdirectory("plexus-quic-certs-").FullName;
        try
        {
            (CaPath, ServerCertificatePath, ServerKeyPath, ClientCertificatePath, ClientKeyPath) = CreateSet("ca", "Plexus QUIC Test CA");
            (OtherCaPath, OtherServerCertificatePath, OtherServerKeyPath, OtherClientCertificatePath, OtherClientKeyPath) = CreateSet("other-ca", "Unrelated Test CA");
        }
        catch
        {
            Directory.Delete(Folder, recursive: true);
            throw;
        }
    }

    /// <summary>The folder holding every file.</summary>
    public string Folder { get; }

    /// <summary>The CA certificate (PEM).</summary>
    public string CaPath { get; }

    /// <summary>The server certificate for localhost / 127.0.0.1 / ::1, signed by <see cref="CaPath"/> (PEM).</summary>
    public string ServerCertificatePath { get; }

    /// <summary>The server certificate's key (PKCS#8 PEM).</summary>
    public string ServerKeyPath { get; }

    /// <summary>A client certificate (clientAuth) signed by <see cref="CaPath"/> (PEM).</summary>
    public string ClientCertificatePath { get; }

    /// <summary>The client certificate's key (PKCS#8 PEM).</summary>
    public string ClientKeyPath { get; }

    /// <summary>A second CA that signed none of the above (PEM).</summary>
    public string OtherCaPath { get; }

    /// <summary>A server certificate for localhost signed by <see cref="OtherCaPath"/> (PEM).</summary>
    public string OtherServerCertificatePath { get; }

    /// <summary>Its key (PKCS#8 PEM).</summary>
    public string OtherServerKeyPath { get; }

    /// <summary>A client certificate signed by <see cref="OtherCaPath"/> (PEM).</summary>
    public string OtherClientCertificatePath { get; }

    /// <summary>Its key (PKCS#8 PEM).</summary>
    public string OtherClientKeyPath { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private (string Ca, string ServerCertificate, string ServerKey, string ClientCertificate, string ClientKey) CreateSet(string prefix, string caName)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = CreateCa(caName, caKey);
        var caPath = Write($"{prefix}.pem", ca.ExportCertificatePem());
        var (serverCertificate, serverKey) = Issue(ca, caKey, $"{prefix}-server", "localhost", ServerAuth, server: true);
        var (clientCertificate, clientKey) = Issue(ca, caKey, $"{prefix}-client", "plexus-test-client", ClientAuth, server: false);
        return (caPath, serverCertificate, serverKey, clientCertificate, clientKey);
    }

    private static X509Certificate2 CreateCa(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}, O=Plexus Tests", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private (string Certificate, string Key) Issue(X509Certificate2 ca, ECDsa caKey, string fileName, string commonName, Oid usage, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}, O=Plexus Tests", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(commonName);
        if (server)
        {
            names.AddIpAddress(IPAddress.Loopback);
            names.AddIpAddress(IPAddress.IPv6Loopback);
        }

        request.CertificateExtensions.Add(names.Build());

        // A positive serial without a leading zero byte: strict X.509 parsers (Go's among them) refuse negative ones.
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        using var certificate = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        return (Write($"{fileName}.pem", certificate.ExportCertificatePem()), Write($"{fileName}.key", key.ExportPkcs8PrivateKeyPem()));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, text);
        return path;
    }
}
