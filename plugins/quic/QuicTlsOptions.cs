namespace Plexus.Transport.Quic;

/// <summary>
/// TLS settings of the QUIC transport, bound from <c>Plexus:Transports:Quic:Tls</c>. QUIC always runs TLS 1.3; these
/// say which certificates each side presents and trusts.
/// </summary>
internal sealed class QuicTlsOptions
{
    /// <summary>
    /// Which certificates: <c>files</c> (the default: the files below, or an ephemeral certificate without them) or
    /// <c>cluster</c> (the node's certificate in its Plexus cluster, and only peers of the same cluster, both ways).
    /// QUIC has no <c>off</c>: TLS 1.3 is part of it.
    /// </summary>
    public string? Mode { get; set; }

    /// <summary>
    /// This process's certificate (PEM; a chain may follow it). The server presents it; a client presents it when the
    /// server requires client certificates. A server without one serves an ephemeral self-signed certificate that only
    /// clients on the same machine (and user) trust.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The unencrypted PEM private key of <see cref="CertificatePath"/>, when it is not in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// PEM CA certificates: a client verifies the server against them, a server verifies client certificates against
    /// them. Unset: clients use the system's trust store (and the ephemeral certificates of servers on this machine).
    /// </summary>
    public string? CaPath { get; set; }

    /// <summary>The server requires every client to present a certificate that chains to <see cref="CaPath"/> (mutual TLS).</summary>
    public bool ClientCertificateRequired { get; set; }

    /// <summary>The name a client checks the server's certificate for (and sends as SNI); default the address's host.</summary>
    public string? ServerName { get; set; }
}
