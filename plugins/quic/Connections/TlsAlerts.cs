namespace Plexus.Transport.Quic.Connections;

/// <summary>Names the TLS alerts a QUIC peer can close a connection with (RFC 8446 §6), in words a person can act on.</summary>
internal static class TlsAlerts
{
    public static string Describe(byte alert) => alert switch
    {
        40 => "handshake_failure (no common TLS parameters)",
        42 => "bad_certificate (the peer did not accept this side's certificate)",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown (the peer did not accept this side's certificate)",
        48 => "unknown_ca (this side's certificate is not signed by a CA the peer trusts)",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        80 => "internal_error",
        109 => "missing_extension",
        112 => "unrecognized_name",
        116 => "certificate_required (the peer requires a client certificate and this side sent none; configure Tls:CertificatePath)",
        120 => "no_application_protocol (the peer does not speak plexus/1)",
        _ => $"TLS alert {alert}",
    };
}
