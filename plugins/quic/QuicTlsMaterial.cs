using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>
/// The TLS settings read once into PEM text and checked: this process's certificate chain and key, and the CA
/// certificates peers must chain to. GnuTLS credentials are made from it only when a server starts or a client first
/// connects, so that a host which never uses QUIC never loads the native libraries.
/// </summary>
internal sealed class QuicTlsMaterial
{
    private QuicTlsMaterial(string? certificatePem, string? keyPem, string? caPem, QuicTlsOptions options, bool cluster = false, IClusterIdentity? identity = null)
    {
        IsCluster = cluster;
        Identity = identity;
        CertificatePem = certificatePem;
        KeyPem = keyPem;
        CaPem = caPem;
        ClientCertificateRequired = options.ClientCertificateRequired;
        ServerName = string.IsNullOrWhiteSpace(options.ServerName) ? null : options.ServerName.Trim();
    }

    /// <summary>
    /// Whether <c>Tls:Mode</c> is <c>cluster</c>: the node's certificate from <see cref="Identity"/> is presented, its
    /// cluster's CA is the only one trusted, client certificates are required and names are not checked.
    /// </summary>
    public bool IsCluster { get; }

    /// <summary>The node's identity in its cluster, when the host has one.</summary>
    public IClusterIdentity? Identity { get; }

    /// <summary>What is missing when the node is not in a cluster: the settings that put it in one.</summary>
    public static string NotInCluster =>
        $"{QuicTransportOptions.Key("Tls:Mode")} is cluster, and Tls:Mode=cluster needs the node to be in a cluster: set Plexus:Cluster:Seed=true or Plexus:Cluster:Join=<seed address>.";

    /// <summary>This process's certificate chain (PEM), if configured.</summary>
    public string? CertificatePem { get; }

    /// <summary>Its private key (PEM), if configured.</summary>
    public string? KeyPem { get; }

    /// <summary>The CA certificates (PEM) peers must chain to; <see langword="null"/> means the system's trust store.</summary>
    public string? CaPem { get; }

    /// <summary>Whether the server requires client certificates.</summary>
    public bool ClientCertificateRequired { get; }

    /// <summary>The name clients check the server's certificate for, instead of the address's host.</summary>
    public string? ServerName { get; }

    /// <summary>Reads and checks the files the options name; with <c>Tls:Mode=cluster</c> there are none, the identity is used.</summary>
    /// <param name="options">The validated TLS settings.</param>
    /// <param name="identity">The node's cluster identity, if the host has one.</param>
    /// <exception cref="ArgumentException">A file cannot be read or used; the message names the setting.</exception>
    public static QuicTlsMaterial Load(QuicTlsOptions options, IClusterIdentity? identity = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (QuicTransportOptions.TryParseClusterMode(options, out var cluster) && cluster)
        {
            return new QuicTlsMaterial(null, null, null, options, cluster: true, identity);
        }

        string? certificatePem = null;
        string? keyPem = null;
        if (options.CertificatePath is { } path)
        {
            var certificateText = Read(path, "Tls:CertificatePath");
            certificatePem = Blocks(certificateText, static label => label == "CERTIFICATE");
            if (certificatePem is null)
            {
                throw new ArgumentException($"{QuicTransportOptions.Key("Tls:CertificatePath")} '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
            }

            var keySource = options.KeyPath is { } keyPath ? Read(keyPath, "Tls:KeyPath") : certificateText;
            keyPem = Blocks(keySource, static label => label.EndsWith("PRIVATE KEY", StringComparison.Ordinal), first: true);
            if (keyPem is null || keyPem.Contains("ENCRYPTED", StringComparison.Ordinal))
            {
                var where = options.KeyPath is null ? $"{QuicTransportOptions.Key("Tls:CertificatePath")} '{path}' holds no private key; add it or set {QuicTransportOptions.Key("Tls:KeyPath")}" : $"{QuicTransportOptions.Key("Tls:KeyPath")} '{options.KeyPath}' holds no unencrypted PEM private key";
                throw new ArgumentException($"{where}. Use an unencrypted PEM key (PKCS#8, -----BEGIN PRIVATE KEY-----).");
            }

            try
            {
                // Parsed here once so that a key of another certificate is a start-up error naming the files.
                using var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            }
            catch (Exception exception) when (exception is CryptographicException or ArgumentException)
            {
                throw new ArgumentException(
                    $"{QuicTransportOptions.Key("Tls:CertificatePath")} '{path}' and its key{(options.KeyPath is null ? string.Empty : $" in {QuicTransportOptions.Key("Tls:KeyPath")} '{options.KeyPath}'")} could not be used together: {exception.Message} Use a PEM certificate and the unencrypted PEM key it was issued for.",
                    exception);
            }
        }

        string? caPem = null;
        if (options.CaPath is { } caPath)
        {
            caPem = Blocks(Read(caPath, "Tls:CaPath"), static label => label == "CERTIFICATE");
            if (caPem is null)
            {
                throw new ArgumentException($"{QuicTransportOptions.Key("Tls:CaPath")} '{caPath}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
            }
        }

        return new QuicTlsMaterial(certificatePem, keyPem, caPem, options);
    }

    /// <summary>A server's GnuTLS credentials: the configured certificate, or the ephemeral one given.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">GnuTLS refused the certificate, key or CA file.</exception>
    public QuicTlsCredentials CreateServerCredentials(string certificatePem, string keyPem)
    {
        try
        {
            return QuicTlsCredentials.CreateServer(certificatePem, keyPem, CaPem, ClientCertificateRequired);
        }
        catch (QuicTlsException exception)
        {
            throw QuicTransportOptions.Unusable("Tls", CertificatePem is null ? "(ephemeral certificate)" : "(configured certificate)", $"GnuTLS could not use the TLS files: {exception.Message}");
        }
    }

    /// <summary>A cluster server's GnuTLS credentials: the node's certificate, its cluster's CA, client certificates required.</summary>
    /// <exception cref="QuicTlsException">GnuTLS refused the certificate or the CA.</exception>
    public static QuicTlsCredentials CreateClusterServerCredentials(ClusterCertificate current)
    {
        ArgumentNullException.ThrowIfNull(current);
        return QuicTlsCredentials.CreateServer(current.CertificatePem, current.PrivateKeyPem, current.AuthorityPem, requireClientCertificate: true, current);
    }

    /// <summary>A cluster client's GnuTLS credentials: trusting its cluster's CA alone, presenting the node's certificate.</summary>
    /// <exception cref="PlexusException">GnuTLS refused the certificate (Unavailable, before the first byte).</exception>
    public static QuicTlsCredentials CreateClusterClientCredentials(ClusterCertificate current)
    {
        ArgumentNullException.ThrowIfNull(current);
        try
        {
            return QuicTlsCredentials.CreateClient(current.AuthorityPem, current.CertificatePem, current.PrivateKeyPem, current);
        }
        catch (Exception exception) when (exception is QuicTlsException or InvalidOperationException)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The QUIC client could not use this node's cluster certificate ({current.Certificate.Subject}): {exception.Message}", exception)
            {
                BeforeFirstByte = true,
            };
        }
    }

    /// <summary>The node's certificate for a client's connection, waiting for it at most <paramref name="within"/>.</summary>
    /// <exception cref="PlexusException">The node is not in a cluster or has no certificate yet (Unavailable, before the first byte).</exception>
    public ValueTask<ClusterCertificate> ClusterCertificateForClientAsync(TimeSpan within) =>
        Plexus.Transport.Tcp.ClusterCertificateWait.ForClientAsync(Identity, within, QuicTransportOptions.Key("Tls:Mode"), NotInCluster);

    /// <summary>
    /// A client's GnuTLS credentials: trusting <paramref name="trustedPem"/> alone when given (a local server's
    /// ephemeral certificate), else the configured CA file, else the system store; presenting the configured
    /// certificate, if any, to servers that ask for one.
    /// </summary>
    /// <exception cref="PlexusException">GnuTLS refused a file (Unavailable, before the first byte).</exception>
    public QuicTlsCredentials CreateClientCredentials(string? trustedPem)
    {
        try
        {
            return QuicTlsCredentials.CreateClient(trustedPem ?? CaPem, CertificatePem, KeyPem);
        }
        catch (Exception exception) when (exception is QuicTlsException or InvalidOperationException)
        {
            // InvalidOperationException: the native libraries are missing; the message says what to install.
            throw new PlexusException(
                PlexusErrorCode.Unavailable,
                exception is QuicTlsException
                    ? $"The QUIC client's TLS settings could not be used ({QuicTransportOptions.Key("Tls:CaPath")}, {QuicTransportOptions.Key("Tls:CertificatePath")}, {QuicTransportOptions.Key("Tls:KeyPath")}): {exception.Message}"
                    : $"The QUIC client cannot run on this machine: {exception.Message}",
                exception)
            {
                BeforeFirstByte = true,
            };
        }
    }

    private static string Read(string path, string setting)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{QuicTransportOptions.Key(setting)} '{path}' could not be read: {exception.Message}", exception);
        }
    }

    // The PEM blocks of the given labels, re-encoded one after the other (or the first only); null when there are none.
    private static string? Blocks(string text, Func<string, bool> wanted, bool first = false)
    {
        StringBuilder? blocks = null;
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            if (wanted(label))
            {
                (blocks ??= new StringBuilder()).Append(rest[fields.Location]).Append('\n');
                if (first)
                {
                    break;
                }
            }

            rest = rest[fields.Location.End..];
        }

        return blocks?.ToString();
    }
}
