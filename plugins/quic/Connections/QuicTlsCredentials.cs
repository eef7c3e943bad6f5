using System.Net;
using System.Text;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// GnuTLS certificate credentials for one role, and the TLS sessions made from them. Unlike ngtcp2's examples, both
/// roles verify the peer: a client checks the server's chain against its CA (or the system store) and the server
/// name; a server that requires client certificates checks the client's chain against its CA.
/// </summary>
internal sealed class QuicTlsCredentials : IDisposable
{
    // TLS 1.3 only (QUIC requires it), the AEADs QUIC defines, and no middlebox compatibility mode (RFC 9001 §8.4).
    private const string Priorities =
        "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:" +
        "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1";

    /// <summary>How a cluster server's reason for refusing a client starts.</summary>
    public const string NotMember = "not a member of this cluster: ";

    private readonly GnuTlsCredentialsHandle _credentials;
    private readonly bool _server;
    private readonly bool _requireClientCertificate;

    private QuicTlsCredentials(GnuTlsCredentialsHandle credentials, bool server, bool requireClientCertificate, ClusterCertificate? cluster)
    {
        _credentials = credentials;
        _server = server;
        _requireClientCertificate = requireClientCertificate;
        Cluster = cluster;
    }

    /// <summary>
    /// With <c>Tls:Mode=cluster</c>, the node's certificate these credentials were made from: its CA is the only one
    /// trusted, names are not checked, and a refused peer is described with <see cref="ClusterCertificate.TryVerifyPeer"/>.
    /// </summary>
    public ClusterCertificate? Cluster { get; }

    /// <summary>Credentials of a server: its certificate chain and key, and the CA its clients' certificates must chain to.</summary>
    /// <exception cref="QuicTlsException">A PEM input cannot be used; the message says which.</exception>
    public static QuicTlsCredentials CreateServer(string certificatePem, string privateKeyPem, string? clientCaPem, bool requireClientCertificate, ClusterCertificate? cluster = null)
    {
        ArgumentNullException.ThrowIfNull(certificatePem);
        ArgumentNullException.ThrowIfNull(privateKeyPem);
        if (requireClientCertificate && clientCaPem is null)
        {
            throw new QuicTlsException("Client certificates are required but no CA to check them against is configured; set Tls:CaPath.");
        }

        QuicNativeLibraries.EnsureAvailable();
        var credentials = GnuTlsCredentialsHandle.Allocate();
        try
        {
            SetKey(credentials, certificatePem, privateKeyPem);
            if (clientCaPem is not null)
            {
                SetTrust(credentials, clientCaPem);
            }

            return new QuicTlsCredentials(credentials, server: true, requireClientCertificate, cluster);
        }
        catch
        {
            credentials.Dispose();
            throw;
        }
    }

    /// <summary>Credentials of a client: the CA servers must chain to (the system store when null), and an optional client certificate.</summary>
    /// <exception cref="QuicTlsException">A PEM input cannot be used; the message says which.</exception>
    public static unsafe QuicTlsCredentials CreateClient(string? caPem, string? certificatePem, string? privateKeyPem, ClusterCertificate? cluster = null)
    {
        if ((certificatePem is null) != (privateKeyPem is null))
        {
            throw new QuicTlsException("A client certificate needs both the certificate and its private key.");
        }

        QuicNativeLibraries.EnsureAvailable();
        var credentials = GnuTlsCredentialsHandle.Allocate();
        try
        {
            if (caPem is not null)
            {
                SetTrust(credentials, caPem);
            }
            else
            {
                var rv = GnuTls.gnutls_certificate_set_x509_system_trust(credentials.DangerousGetHandle());
                if (rv < 0)
                {
                    throw new QuicTlsException($"The system's trusted CAs could not be loaded ({GnuTls.ErrorText(rv)}); set Tls:CaPath.");
                }
            }

            if (certificatePem is not null)
            {
                SetKey(credentials, certificatePem, privateKeyPem!);
            }

            return new QuicTlsCredentials(credentials, server: false, requireClientCertificate: false, cluster);
        }
        catch
        {
            credentials.Dispose();
            throw;
        }
    }

    /// <summary>Whether these are a server's credentials.</summary>
    public bool IsServer => _server;

    /// <summary>
    /// A TLS session for one QUIC connection, set up for ngtcp2 (<paramref name="connectionReference"/> is the
    /// <c>ngtcp2_crypto_conn_ref</c> its callbacks find the connection by) with ALPN and peer verification.
    /// </summary>
    public unsafe GnuTlsSessionHandle CreateSession(nint connectionReference, IReadOnlyList<string> alpns, string? serverName)
    {
        var flags = (uint)((_server ? GnuTls.GNUTLS_SERVER : GnuTls.GNUTLS_CLIENT) | GnuTls.GNUTLS_NO_END_OF_EARLY_DATA | GnuTls.GNUTLS_NO_AUTO_SEND_TICKET);
        var session = GnuTlsSessionHandle.Create(flags);
        try
        {
            var s = session.DangerousGetHandle();
            Check(_server ? Ngtcp2CryptoGnuTls.ngtcp2_crypto_gnutls_configure_server_session(s) : Ngtcp2CryptoGnuTls.ngtcp2_crypto_gnutls_configure_client_session(s),
                "ngtcp2_crypto_gnutls_configure_session");
            Check(GnuTls.gnutls_priority_set_direct(s, Priorities, null), "gnutls_priority_set_direct");
            GnuTls.gnutls_session_set_ptr(s, connectionReference);
            Check(GnuTls.gnutls_credentials_set(s, GnuTls.GNUTLS_CRD_CERTIFICATE, _credentials.DangerousGetHandle()), "gnutls_credentials_set");

            // One block of the names back to back; GnuTLS copies them. A server picks by its own order.
            var names = new byte[alpns.Count][];
            var total = 0;
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = Encoding.ASCII.GetBytes(alpns[i]);
                total += names[i].Length;
            }

            var block = new byte[total];
            var datums = stackalloc gnutls_datum_t[names.Length];
            fixed (byte* start = block)
            {
                var offset = 0;
                for (var i = 0; i < names.Length; i++)
                {
                    names[i].CopyTo(block, offset);
                    datums[i] = new gnutls_datum_t { data = start + offset, size = (uint)names[i].Length };
                    offset += names[i].Length;
                }

                Check(GnuTls.gnutls_alpn_set_protocols(s, datums, (uint)names.Length, _server ? (uint)(GnuTls.GNUTLS_ALPN_MANDATORY | GnuTls.GNUTLS_ALPN_SERVER_PRECEDENCE) : 0u), "gnutls_alpn_set_protocols");
            }

            if (_server)
            {
                if (_requireClientCertificate)
                {
                    GnuTls.gnutls_certificate_server_set_request(s, GnuTls.GNUTLS_CERT_REQUIRE);

                    // Without the list of trusted CAs a client sends its certificate whoever issued it, so a wrong
                    // one is refused as unknown_ca rather than looking like no certificate at all.
                    GnuTls.gnutls_certificate_send_x509_rdn_sequence(s, 1);
                    // Verifies the client's chain during the handshake, so a bad certificate fails it.
                    GnuTls.gnutls_session_set_verify_cert(s, null, 0);
                }
            }
            else
            {
                var name = serverName ?? throw new ArgumentNullException(nameof(serverName));
                var namePointer = session.SetVerifiedName(name);

                // SNI carries names only; an IP address is still checked against the certificate's IP SANs.
                if (!IPAddress.TryParse(name, out _))
                {
                    Check(GnuTls.gnutls_server_name_set(s, GnuTls.GNUTLS_NAME_DNS, namePointer, (nuint)System.Text.Encoding.UTF8.GetByteCount(name)), "gnutls_server_name_set");
                }

                // In a cluster, membership is the identity: the chain to the cluster CA (the only CA these credentials
                // trust) and the validity are checked, the name is not.
                GnuTls.gnutls_session_set_verify_cert(s, Cluster is null ? namePointer : null, 0);
            }

            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Why this side refused the peer in <paramref name="session"/>, or null when it did not refuse its certificate.
    /// In cluster mode the peer's certificate is checked again with <see cref="ClusterCertificate.TryVerifyPeer"/>,
    /// whose words name the certificate and the cluster's CA.
    /// </summary>
    /// <param name="session">The failed session.</param>
    /// <param name="serverName">The name a client checked the server for.</param>
    /// <param name="alert">The TLS alert the handshake failed with.</param>
    public string? DescribeRefusal(GnuTlsSessionHandle session, string? serverName, byte alert)
    {
        if (Cluster is not null && DescribeClusterRefusal(session, alert) is { } notMember)
        {
            return notMember;
        }

        return DescribeVerificationFailure(session, serverName);
    }

    /// <summary>Why GnuTLS refused the peer's certificate in <paramref name="session"/>, or null when it did not.</summary>
    public static string? DescribeVerificationFailure(GnuTlsSessionHandle session, string? serverName)
    {
        var status = GnuTls.gnutls_session_get_verify_cert_status(session.DangerousGetHandle());
        if (status == 0)
        {
            return null;
        }

        var reasons = new List<string>();
        if ((status & GnuTls.GNUTLS_CERT_SIGNER_NOT_FOUND) != 0)
        {
            reasons.Add("it is not signed by a CA this side trusts (check Tls:CaPath)");
        }

        if ((status & GnuTls.GNUTLS_CERT_SIGNER_NOT_CA) != 0)
        {
            reasons.Add("its issuer is not a CA");
        }

        if ((status & GnuTls.GNUTLS_CERT_UNEXPECTED_OWNER) != 0)
        {
            reasons.Add($"it is not issued for '{serverName}' (check the address's host or Tls:ServerName)");
        }

        if ((status & GnuTls.GNUTLS_CERT_EXPIRED) != 0)
        {
            reasons.Add("it has expired");
        }

        if ((status & GnuTls.GNUTLS_CERT_NOT_ACTIVATED) != 0)
        {
            reasons.Add("it is not valid yet");
        }

        if ((status & GnuTls.GNUTLS_CERT_REVOKED) != 0)
        {
            reasons.Add("it is revoked");
        }

        if ((status & GnuTls.GNUTLS_CERT_PURPOSE_MISMATCH) != 0)
        {
            reasons.Add("its key usage does not allow this role");
        }

        if (reasons.Count == 0)
        {
            reasons.Add($"GnuTLS verification status 0x{status:x}");
        }

        return "the peer's certificate was refused: " + string.Join("; ", reasons);
    }

    public void Dispose() => _credentials.Dispose();

    // The peer's leaf certificate, copied out of the session; null when it presented none.
    private static unsafe System.Security.Cryptography.X509Certificates.X509Certificate2? PeerCertificate(GnuTlsSessionHandle session)
    {
        uint count = 0;
        var chain = GnuTls.gnutls_certificate_get_peers(session.DangerousGetHandle(), &count);
        if (chain == null || count == 0 || chain[0].data == null)
        {
            return null;
        }

        return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(new ReadOnlySpan<byte>(chain[0].data, (int)chain[0].size));
    }

    private string? DescribeClusterRefusal(GnuTlsSessionHandle session, byte alert)
    {
        // 116 certificate_required: the client sent no certificate. Otherwise a certificate GnuTLS did not verify.
        const byte CertificateRequired = 116;
        var status = GnuTls.gnutls_session_get_verify_cert_status(session.DangerousGetHandle());
        if (status == 0 && alert != CertificateRequired)
        {
            return null;
        }

        try
        {
            using var peer = PeerCertificate(session);
            if (Cluster!.TryVerifyPeer(peer, out var problem))
            {
                // .NET accepts what GnuTLS did not (a usage it checks differently): say what GnuTLS said.
                return null;
            }

            return _server ? NotMember + problem : $"the server's certificate is not from this cluster's CA: {problem}";
        }
        catch (Exception exception)
        {
            // Called while the connection closes: whatever goes wrong here must not keep it from closing.
            return $"{(_server ? NotMember : "the server's certificate is not from this cluster's CA: ")}its certificate could not be read ({exception.Message}); only certificates from this cluster's CA are accepted (Tls:Mode=cluster)";
        }
    }

    private static unsafe void SetKey(GnuTlsCredentialsHandle credentials, string certificatePem, string privateKeyPem)
    {
        var cert = Encoding.ASCII.GetBytes(certificatePem);
        var key = Encoding.ASCII.GetBytes(privateKeyPem);
        fixed (byte* c = cert)
        fixed (byte* k = key)
        {
            var certDatum = new gnutls_datum_t { data = c, size = (uint)cert.Length };
            var keyDatum = new gnutls_datum_t { data = k, size = (uint)key.Length };
            var rv = GnuTls.gnutls_certificate_set_x509_key_mem2(credentials.DangerousGetHandle(), &certDatum, &keyDatum, GnuTls.GNUTLS_X509_FMT_PEM, null, 0);
            if (rv < 0)
            {
                throw new QuicTlsException($"The certificate and key could not be loaded: {GnuTls.ErrorText(rv)}. Use a PEM certificate and an unencrypted PEM (PKCS#8) key that belong together.");
            }
        }
    }

    private static unsafe void SetTrust(GnuTlsCredentialsHandle credentials, string caPem)
    {
        var ca = Encoding.ASCII.GetBytes(caPem);
        fixed (byte* c = ca)
        {
            var datum = new gnutls_datum_t { data = c, size = (uint)ca.Length };
            var rv = GnuTls.gnutls_certificate_set_x509_trust_mem(credentials.DangerousGetHandle(), &datum, GnuTls.GNUTLS_X509_FMT_PEM);
            if (rv <= 0)
            {
                throw new QuicTlsException(rv < 0
                    ? $"The CA certificates could not be loaded: {GnuTls.ErrorText(rv)}. Use PEM certificates."
                    : "The CA file holds no PEM certificate.");
            }
        }
    }

    private static void Check(int rv, string what)
    {
        if (rv != 0)
        {
            throw new QuicTlsException($"{what} failed: {GnuTls.ErrorText(rv)}");
        }
    }
}
