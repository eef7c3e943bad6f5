namespace Plexus.Transport.Quic.Connections;

/// <summary>How and why a QUIC connection ended, and a sentence for a person.</summary>
internal readonly record struct QuicCloseInfo(QuicCloseKind Kind, ulong ErrorCode, string Reason)
{
    /// <summary>QUIC's CRYPTO_ERROR range: 0x100 + the TLS alert.</summary>
    private const ulong CryptoErrorBase = 0x100;

    /// <summary>A sentence that says what happened and, where there is one, what to do.</summary>
    public string Describe() => Kind switch
    {
        QuicCloseKind.Local => Reason.Length > 0 ? $"the connection was closed: {Reason}" : "the connection was closed",
        QuicCloseKind.PeerApplication when ErrorCode == 0 => Reason.Length > 0 ? $"the peer closed the connection: {Reason}" : "the peer closed the connection",
        QuicCloseKind.PeerApplication when ErrorCode == QuicErrorCodes.Stalled =>
            "the peer closed the connection because this side read none of what it was sent" + (Reason.Length > 0 ? $": {Reason}" : ""),
        QuicCloseKind.PeerApplication => $"the peer closed the connection with application error 0x{ErrorCode:x}" + (Reason.Length > 0 ? $": {Reason}" : ""),
        QuicCloseKind.PeerTransport when ErrorCode >= CryptoErrorBase && ErrorCode < CryptoErrorBase + 0x100 =>
            $"the peer's TLS refused this side: {TlsAlerts.Describe((byte)(ErrorCode - CryptoErrorBase))}" + (Reason.Length > 0 ? $" ({Reason})" : ""),
        QuicCloseKind.PeerTransport => $"the peer closed the connection with QUIC transport error 0x{ErrorCode:x}" + (Reason.Length > 0 ? $": {Reason}" : ""),
        QuicCloseKind.IdleTimeout => $"nothing was received from the peer within the idle timeout ({Reason}); the peer is gone or unreachable",
        QuicCloseKind.HandshakeTimeout => $"the QUIC handshake did not complete within {Reason}; is a Plexus QUIC server listening there, and is UDP let through?",
        QuicCloseKind.Tls => $"TLS refused the peer: {Reason}",
        QuicCloseKind.Protocol => $"the connection failed: {Reason}",
        QuicCloseKind.Unreachable => $"nothing answers QUIC at {Reason} (the port is unreachable); is the server running, and is this its address?",
        QuicCloseKind.Disposed => "the connection was disposed",
        _ => Reason,
    };
}
