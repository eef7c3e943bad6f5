namespace Plexus.Transport.Nats;

/// <summary>TLS settings of the NATS transport, bound from <c>Plexus:Transports:Nats:Tls</c>.</summary>
internal sealed class NatsTlsOptions
{
    /// <summary>Use TLS even when the server does not require it. Default <see langword="false"/> (TLS is still used when the server requires it).</summary>
    public bool Enabled { get; set; }

    /// <summary>A PEM file of the certificate authorities the server's certificate must chain to; the system's store when empty.</summary>
    public string CaFile { get; set; } = string.Empty;

    /// <summary>A PEM client certificate, for servers that verify clients.</summary>
    public string CertFile { get; set; } = string.Empty;

    /// <summary>The PEM private key of <see cref="CertFile"/>.</summary>
    public string KeyFile { get; set; } = string.Empty;

    /// <summary>The name the server's certificate must carry; the URL's host when empty.</summary>
    public string ServerName { get; set; } = string.Empty;
}
