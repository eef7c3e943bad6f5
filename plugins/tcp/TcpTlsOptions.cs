namespace Plexus.Transport.Tcp;

/// <summary>TLS settings of the TCP transport, bound from <c>Plexus:Transports:Tcp:Tls</c>.</summary>
internal sealed class TcpTlsOptions
{
    /// <summary>
    /// Which TLS, if any: <c>off</c> (plain TCP), <c>files</c> (the certificate and CA files below) or <c>cluster</c>
    /// (the node's certificate in its Plexus cluster, and only peers of the same cluster, both ways). Unset: <c>files</c>
    /// when <see cref="Enabled"/> is true, else <c>off</c>, as before the setting existed.
    /// </summary>
    public string? Mode { get; set; }

    /// <summary>
    /// Serve TLS (the server needs <see cref="CertificatePath"/>), and use TLS for every outgoing connection, even to
    /// addresses without <c>?tls=true</c>. Default <see langword="false"/>: clients still use TLS where an address asks.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// This process's certificate: PEM (with <see cref="KeyPath"/>, or a key in the same file) or PKCS#12
    /// (<c>.pfx</c>/<c>.p12</c>, with <see cref="CertificatePassword"/>). The server presents it; a client presents it
    /// when the server asks for a client certificate (mutual TLS).
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, when it is not in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 <see cref="CertificatePath"/>.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// PEM file of the CA certificates that peers' certificates must chain to (both directions). When set, only these
    /// are trusted; when not, the system's trust store is used.
    /// </summary>
    public string? CaPath { get; set; }

    /// <summary>The server requires every client to present a certificate that chains to <see cref="CaPath"/> (mutual TLS).</summary>
    public bool ClientCertificateRequired { get; set; }
}
