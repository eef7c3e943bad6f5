using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Quic;

/// <summary>
/// The QUIC transport's log lines, with stable event ids (3200-3249; the engine below logs 3250-3299) so that
/// operators can filter and alert on them.
/// </summary>
internal static partial class QuicLog
{
    [LoggerMessage(EventId = 3201, EventName = "QuicListening", Level = LogLevel.Debug, Message = "QUIC transport listening on {Bound} (UDP), advertised as {Address}")]
    public static partial void Listening(ILogger logger, string bound, Uri address);

    [LoggerMessage(EventId = 3202, EventName = "QuicEphemeralCertificate", Level = LogLevel.Warning, Message = "No certificate is configured ({Setting}), so {Address} serves an ephemeral self-signed certificate for {Names}, made for this process. Clients must trust it: those on this machine running as this user do (it is published in {TrustFile}); any other client is refused until the server has a real certificate and the client its CA in Tls:CaPath")]
    public static partial void EphemeralCertificate(ILogger logger, string setting, Uri address, string names, string trustFile);

    [LoggerMessage(EventId = 3203, EventName = "QuicEphemeralNotPublished", Level = LogLevel.Warning, Message = "The ephemeral certificate of {Address} could not be published for local clients: {Reason}. Only clients given the certificate in Tls:CaPath will trust it")]
    public static partial void EphemeralNotPublished(ILogger logger, Uri address, string reason);

    [LoggerMessage(EventId = 3204, EventName = "QuicSettingsRefused", Level = LogLevel.Warning, Message = "Closed the connection from {Peer}: {Reason}")]
    public static partial void SettingsRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 3205, EventName = "QuicStreamFailed", Level = LogLevel.Debug, Message = "Stream {StreamId} from {Peer} failed: {Reason}")]
    public static partial void StreamFailed(ILogger logger, long streamId, string peer, string reason);

    [LoggerMessage(EventId = 3206, EventName = "QuicProtocolViolation", Level = LogLevel.Warning, Message = "Reset stream {StreamId} of {Peer} (PROTOCOL): {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, long streamId, string peer, string reason);

    [LoggerMessage(EventId = 3207, EventName = "QuicAcceptFailed", Level = LogLevel.Warning, Message = "Accepting a QUIC connection failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3208, EventName = "QuicEphemeralTrustIgnored", Level = LogLevel.Warning, Message = "Ignored the published ephemeral certificate for {Address}: {Reason}")]
    public static partial void EphemeralTrustIgnored(ILogger logger, Uri address, string reason);

    [LoggerMessage(EventId = 3209, EventName = "QuicControlStreamFailed", Level = LogLevel.Debug, Message = "The control stream with {Peer} ended: {Reason}")]
    public static partial void ControlStreamFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 3210, EventName = "QuicClusterServerRefused", Level = LogLevel.Warning, Message = "Refused the server {Address}: {Reason}")]
    public static partial void ClusterServerRefused(ILogger logger, Uri address, string reason);

    [LoggerMessage(EventId = 3211, EventName = "QuicClusterCertificateRenewed", Level = LogLevel.Information, Message = "{Address} presents the renewed cluster certificate {Subject} (serial {Serial}, until {NotAfter:O}) to new connections; open connections keep theirs")]
    public static partial void ClusterCertificateRenewed(ILogger logger, Uri address, string subject, string serial, DateTimeOffset notAfter);

    [LoggerMessage(EventId = 3212, EventName = "QuicClusterRenewalFailed", Level = LogLevel.Error, Message = "{Address} could not take the renewed cluster certificate and keeps presenting the previous one: {Reason}")]
    public static partial void ClusterRenewalFailed(ILogger logger, Uri address, string reason);
}
