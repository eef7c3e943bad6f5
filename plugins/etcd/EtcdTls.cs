using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// The TLS files turned into certificates once: the client certificate presented to etcd and the CAs etcd's server
/// certificate must chain to. The server's certificate must also name the host of one of the configured endpoints:
/// gRPC's balancer connects to each member by address, so the check accepts any member's name rather than the one
/// name the channel was created with.
/// </summary>
internal sealed class EtcdTls
{
    private readonly X509Certificate2? _certificate;
    private readonly X509Certificate2Collection? _authorities;
    private readonly string[] _hosts;

    private EtcdTls(X509Certificate2? certificate, X509Certificate2Collection? authorities, string[] hosts)
    {
        _certificate = certificate;
        _authorities = authorities;
        _hosts = hosts;
    }

    /// <summary>Loads the files the options name.</summary>
    /// <exception cref="ArgumentException">A file cannot be read; the message names the setting.</exception>
    public static EtcdTls Load(EtcdDiscoveryOptions options, string[] hosts)
    {
        X509Certificate2? certificate = null;
        if (options.CertFile is { } certFile)
        {
            try
            {
                using var pem = X509Certificate2.CreateFromPemFile(certFile, options.KeyFile ?? certFile);

                // A PEM key is ephemeral; a PKCS#12 round trip gives SslStream a key it can use on every platform.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException(
                    $"{EtcdDiscoveryOptions.Key("CertFile")} '{certFile}' with {EtcdDiscoveryOptions.Key("KeyFile")} '{options.KeyFile}' could not be loaded: {ex.Message} Use a PEM certificate and its PEM private key.",
                    ex);
            }
        }

        X509Certificate2Collection? authorities = null;
        if (options.CaFile is { } caFile)
        {
            try
            {
                authorities = [];
                authorities.ImportFromPemFile(caFile);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"{EtcdDiscoveryOptions.Key("CaFile")} '{caFile}' could not be read as PEM certificates: {ex.Message}", ex);
            }

            if (authorities.Count == 0)
            {
                throw new ArgumentException($"{EtcdDiscoveryOptions.Key("CaFile")} '{caFile}' holds no PEM certificate.");
            }
        }

        return new EtcdTls(certificate, authorities, hosts);
    }

    /// <summary>Fills in the options of each TLS connection to a member.</summary>
    public void Configure(SslClientAuthenticationOptions ssl)
    {
        ArgumentNullException.ThrowIfNull(ssl);
        ssl.EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        ssl.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        if (_certificate is { } certificate)
        {
            ssl.ClientCertificates = [certificate];
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }

        ssl.RemoteCertificateValidationCallback = (_, presented, _, errors) =>
        {
            var problem = presented is null ? "etcd presented no certificate" : Check(presented, errors);
            if (problem is not null)
            {
                LastRefusal = presented is null ? problem : $"etcd's certificate '{presented.Subject}' was refused: {problem}";
            }

            return problem is null;
        };
    }

    /// <summary>Why the last server certificate was refused, for the message of the failed call.</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>Why the server's certificate is refused, or null when it is accepted.</summary>
    internal string? Check(X509Certificate presented, SslPolicyErrors errors)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        if (_authorities is null)
        {
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                return $"it does not chain to a CA in the system's trust store; set {EtcdDiscoveryOptions.Key("CaFile")}";
            }
        }
        else
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!chain.Build(leaf))
            {
                return $"it does not chain to a CA in {EtcdDiscoveryOptions.Key("CaFile")}";
            }
        }

        return _hosts.Any(h => leaf.MatchesHostname(h)) ? null : "it names none of the endpoints' hosts";
    }
}
