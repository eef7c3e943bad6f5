using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The TLS settings turned into certificates, loaded once: this process's certificate (PEM or PKCS#12), the CA
/// certificates peers must chain to, and the checks both roles apply to the peer's certificate.
/// </summary>
internal sealed class TlsMaterial
{
    private TlsMaterial(TlsMode mode, X509Certificate2? certificate, X509Certificate2Collection? authorities, bool clientCertificateRequired, ClusterTls cluster)
    {
        Mode = mode;
        Certificate = certificate;
        Authorities = authorities;
        ClientCertificateRequired = clientCertificateRequired;
        Cluster = cluster;
    }

    /// <summary>Which TLS the transport runs.</summary>
    public TlsMode Mode { get; }

    /// <summary>Whether the server serves TLS and clients use it for every address.</summary>
    public bool Enabled => Mode != TlsMode.Off;

    /// <summary>The node's cluster certificate and the checks of <c>Tls:Mode=cluster</c>.</summary>
    public ClusterTls Cluster { get; }

    /// <summary>This process's certificate, if configured.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The CAs peers must chain to; <see langword="null"/> means the system's trust store.</summary>
    public X509Certificate2Collection? Authorities { get; }

    /// <summary>Whether the server requires client certificates.</summary>
    public bool ClientCertificateRequired { get; }

    /// <summary>Loads the files the options name; with <c>Tls:Mode=cluster</c> there are none, the identity is used.</summary>
    /// <param name="options">The validated TLS settings.</param>
    /// <param name="identity">The node's cluster identity, if the host has one.</param>
    /// <exception cref="ArgumentException">A file cannot be read; the message names the setting.</exception>
    public static TlsMaterial Load(TcpTlsOptions options, IClusterIdentity? identity)
    {
        ArgumentNullException.ThrowIfNull(options);
        TcpTransportOptions.TryParseTlsMode(options, out var mode);
        var cluster = new ClusterTls(identity);
        if (mode == TlsMode.Cluster)
        {
            return new TlsMaterial(mode, certificate: null, authorities: null, clientCertificateRequired: true, cluster);
        }

        X509Certificate2? certificate = null;
        if (options.CertificatePath is { } path)
        {
            try
            {
                certificate = LoadCertificate(path, options.KeyPath, options.CertificatePassword);
            }
            catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException(
                    $"{TcpTransportOptions.Key("Tls:CertificatePath")} '{path}' could not be loaded: {exception.Message} Use a PEM certificate with its key (in the file or in {TcpTransportOptions.Key("Tls:KeyPath")}) or a .pfx/.p12 file with {TcpTransportOptions.Key("Tls:CertificatePassword")}.",
                    exception);
            }

            if (!certificate.HasPrivateKey)
            {
                throw new ArgumentException($"{TcpTransportOptions.Key("Tls:CertificatePath")} '{path}' has no private key; add it to the file or set {TcpTransportOptions.Key("Tls:KeyPath")}.");
            }
        }

        X509Certificate2Collection? authorities = null;
        if (options.CaPath is { } caPath)
        {
            try
            {
                authorities = [];
                authorities.ImportFromPemFile(caPath);
            }
            catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"{TcpTransportOptions.Key("Tls:CaPath")} '{caPath}' could not be read as PEM certificates: {exception.Message}", exception);
            }

            if (authorities.Count == 0)
            {
                throw new ArgumentException($"{TcpTransportOptions.Key("Tls:CaPath")} '{caPath}' holds no PEM certificate.");
            }
        }

        return new TlsMaterial(mode, certificate, authorities, options.ClientCertificateRequired, cluster);
    }

    /// <summary>Options for the server side of a TLS handshake with <paramref name="peer"/>.</summary>
    /// <param name="peer">The client's address, for the reason.</param>
    /// <param name="refusal">Receives why the client's certificate was refused, if it was.</param>
    public SslServerAuthenticationOptions ServerOptions(string peer, StrongBox<string?> refusal)
    {
        if (Mode == TlsMode.Cluster)
        {
            return Cluster.ServerOptions(refusal);
        }

        if (Certificate is null)
        {
            throw new InvalidOperationException(
                $"{TcpTransportOptions.Key("Tls:Enabled")} is true but no certificate is configured; set {TcpTransportOptions.Key("Tls:CertificatePath")}.");
        }

        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(Certificate, additionalCertificates: null),
            ClientCertificateRequired = ClientCertificateRequired,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null)
                {
                    if (!ClientCertificateRequired)
                    {
                        return true;
                    }

                    refusal.Value = $"the client at {peer} presented no certificate, and {TcpTransportOptions.Key("Tls:ClientCertificateRequired")} is true; give the client a certificate from the CA in {TcpTransportOptions.Key("Tls:CaPath")}.";
                    return false;
                }

                var problem = CheckChain(certificate, errors, checkName: false);
                if (problem is not null && ClientCertificateRequired)
                {
                    refusal.Value = $"the client certificate '{certificate.Subject}' from {peer} was refused: {problem}";
                    return false;
                }

                return true;
            },
        };
    }

    /// <summary>Options for the client side of a TLS handshake with <paramref name="host"/>.</summary>
    /// <param name="host">The server's host as the address names it; its certificate must name it.</param>
    /// <param name="refusal">Receives why the server's certificate was refused, if it was.</param>
    public SslClientAuthenticationOptions ClientOptions(string host, StrongBox<string?> refusal) => new()
    {
        TargetHost = host,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificates = Certificate is null ? null : [Certificate],
        LocalCertificateSelectionCallback = Certificate is null ? null : (_, _, _, _, _) => Certificate,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null)
            {
                refusal.Value = $"the server {host} presented no certificate.";
                return false;
            }

            var problem = CheckChain(certificate, errors, checkName: true);
            if (problem is not null)
            {
                refusal.Value = $"the server certificate '{certificate.Subject}' of {host} was refused: {problem}";
                return false;
            }

            return true;
        },
    };

    private static X509Certificate2 LoadCertificate(string path, string? keyPath, string? password)
    {
        var extension = Path.GetExtension(path);
        if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }

        using var pem = X509Certificate2.CreateFromPemFile(path, keyPath ?? path);

        // A PEM key is ephemeral; a PKCS#12 round trip gives SslStream a key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
    }

    private string? CheckChain(X509Certificate certificate, SslPolicyErrors errors, bool checkName)
    {
        if (checkName && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return "it does not name the host the address names (check its subject alternative names).";
        }

        if (Authorities is null)
        {
            return (errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0
                ? "it does not chain to a CA in the system's trust store; set " + TcpTransportOptions.Key("Tls:CaPath") + " to the CA that issued it."
                : null;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(leaf))
        {
            return null;
        }

        var status = chain.ChainStatus.Length == 0 ? "unknown" : chain.ChainStatus[0].StatusInformation.Trim();
        return $"it does not chain to a CA in {TcpTransportOptions.Key("Tls:CaPath")} ({status}).";
    }
}
