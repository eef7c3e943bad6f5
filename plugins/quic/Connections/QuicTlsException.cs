namespace Plexus.Transport.Quic.Connections;

/// <summary>TLS material could not be loaded into GnuTLS; the message names what and why.</summary>
internal sealed class QuicTlsException(string message) : Exception(message);
