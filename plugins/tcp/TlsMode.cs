namespace Plexus.Transport.Tcp;

/// <summary>Which TLS the TCP transport runs (<c>Plexus:Transports:Tcp:Tls:Mode</c>).</summary>
internal enum TlsMode
{
    /// <summary>Plain TCP; clients still use TLS where an address says <c>?tls=true</c>.</summary>
    Off,

    /// <summary>TLS with the certificate and CA files the settings name.</summary>
    Files,

    /// <summary>Mutual TLS with the node's cluster certificate; only peers whose certificates chain to the cluster CA.</summary>
    Cluster,
}
