namespace Plexus.Transport.Quic.Connections;

/// <summary>Why a QUIC connection ended.</summary>
internal enum QuicCloseKind
{
    /// <summary>This side closed it.</summary>
    Local,

    /// <summary>The peer closed it with an application error code (0 is an orderly close).</summary>
    PeerApplication,

    /// <summary>The peer closed it with a QUIC transport error (a TLS alert among them).</summary>
    PeerTransport,

    /// <summary>Nothing arrived from the peer within the idle timeout.</summary>
    IdleTimeout,

    /// <summary>The handshake did not complete in time.</summary>
    HandshakeTimeout,

    /// <summary>This side's TLS refused the peer (its certificate, its ALPN).</summary>
    Tls,

    /// <summary>The peer broke the QUIC protocol, or the connection failed inside ngtcp2.</summary>
    Protocol,

    /// <summary>The kernel reported the peer's UDP port unreachable: no server listens there.</summary>
    Unreachable,

    /// <summary>The listener or the connection was disposed.</summary>
    Disposed,
}
