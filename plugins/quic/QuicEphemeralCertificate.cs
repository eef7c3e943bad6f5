using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Transport.Quic;

/// <summary>
/// A self-signed ECDSA P-256 certificate made when a server starts without one (as Kestrel's development certificate
/// lets a first run serve HTTPS), for the names a client on this machine may use: <c>localhost</c>, <c>127.0.0.1</c>,
/// <c>::1</c>, the machine's host name and the advertised host. It lives as long as the process; nobody trusts it
/// unless told to (see <see cref="QuicEphemeralTrust"/>).
/// </summary>
internal sealed record QuicEphemeralCertificate(string CertificatePem, string KeyPem, string Names)
{
    /// <summary>Makes the certificate.</summary>
    /// <param name="advertisedHost">The host clients are told to use.</param>
    /// <param name="boundAddress">The address the server is bound to, also named when it is a specific one.</param>
    public static QuicEphemeralCertificate Create(string advertisedHost, IPAddress boundAddress)
    {
        var dnsNames = new List<string> { "localhost" };
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        AddHost(Environment.MachineName, dnsNames, addresses);
        AddHost(SafeHostName(), dnsNames, addresses);
        AddHost(advertisedHost, dnsNames, addresses);
        if (!boundAddress.Equals(IPAddress.Any) && !boundAddress.Equals(IPAddress.IPv6Any))
        {
            AddHost(boundAddress.ToString(), dnsNames, addresses);
        }

        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=Plexus ephemeral QUIC certificate", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(names.Build());

        // A positive serial without a leading zero byte: strict X.509 parsers refuse negative ones.
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        var now = DateTimeOffset.UtcNow;
        using var signer = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddHours(-1), now.AddYears(1), serial);
        var all = string.Join(", ", [.. dnsNames, .. addresses.ConvertAll(static a => a.ToString())]);
        return new QuicEphemeralCertificate(signer.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), all);
    }

    private static void AddHost(string? host, List<string> dnsNames, List<IPAddress> addresses)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return;
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            if (!addresses.Contains(ip))
            {
                addresses.Add(ip);
            }
        }
        else if (Uri.CheckHostName(host) == UriHostNameType.Dns && !dnsNames.Contains(host, StringComparer.OrdinalIgnoreCase))
        {
            dnsNames.Add(host);
        }
    }

    private static string? SafeHostName()
    {
        try
        {
            return Dns.GetHostName();
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
