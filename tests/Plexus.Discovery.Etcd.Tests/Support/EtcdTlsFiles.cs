using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Discovery.Etcd.Tests.Support;

/// <summary>
/// A throwaway CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, written as PEM files
/// for etcd (<c>--cert-file</c>, <c>--trusted-ca-file</c>, <c>--client-cert-auth</c>) and for the provider.
/// </summary>
public sealed record EtcdTlsFiles(string Ca, string ServerCert, string ServerKey, string ClientCert, string ClientKey)
{
    /// <summary>Writes a CA and certificates it issued into <paramref name="directory"/>.</summary>
    public static EtcdTlsFiles Write(string directory, string prefix = "")
    {
        Directory.CreateDirectory(directory);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Plexus etcd test CA {prefix}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        var files = new EtcdTlsFiles(
            Path.Combine(directory, $"{prefix}ca.pem"),
            Path.Combine(directory, $"{prefix}server.pem"),
            Path.Combine(directory, $"{prefix}server-key.pem"),
            Path.Combine(directory, $"{prefix}client.pem"),
            Path.Combine(directory, $"{prefix}client-key.pem"));
        File.WriteAllText(files.Ca, ca.ExportCertificatePem());
        Issue(ca, "CN=127.0.0.1", server: true, files.ServerCert, files.ServerKey);
        Issue(ca, "CN=plexus-node", server: false, files.ClientCert, files.ClientKey);
        return files;
    }

    private static void Issue(X509Certificate2 ca, string subject, bool server, string certPath, string keyPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));

        // etcd checks the extended key usage of the certificates presented to it.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            server ? [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")] : [new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }
}
