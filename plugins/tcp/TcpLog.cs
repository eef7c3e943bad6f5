using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Tcp;

/// <summary>The TCP transport's log lines, with stable event ids so that operators can filter and alert on them.</summary>
internal static partial class TcpLog
{
    [LoggerMessage(EventId = 3001, EventName = "TcpListening", Level = LogLevel.Debug, Message = "TCP transport listening on {Bound}, advertised as {Address}")]
    public static partial void Listening(ILogger logger, string bound, Uri address);

    [LoggerMessage(EventId = 3002, EventName = "TcpHandshakeRefused", Level = LogLevel.Warning, Message = "Refused the connection from {Peer} at the handshake: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 3003, EventName = "TcpProtocolViolation", Level = LogLevel.Warning, Message = "Closed the connection with {Peer}: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 3004, EventName = "TcpPeerDead", Level = LogLevel.Warning, Message = "Nothing received from {Peer} for {IdleMilliseconds} ms; closing the connection as dead")]
    public static partial void PeerDead(ILogger logger, string peer, long idleMilliseconds);

    [LoggerMessage(EventId = 3005, EventName = "TcpAcceptFailed", Level = LogLevel.Warning, Message = "Accepting a TCP connection failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3006, EventName = "TcpTlsRefused", Level = LogLevel.Warning, Message = "Refused the TLS connection from {Peer}: {Reason}")]
    public static partial void TlsRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 3007, EventName = "TcpStreamFailed", Level = LogLevel.Debug, Message = "Stream {StreamId} from {Peer} failed: {Reason}")]
    public static partial void StreamFailed(ILogger logger, uint streamId, string peer, string reason);

    [LoggerMessage(EventId = 3008, EventName = "TcpStalledPeer", Level = LogLevel.Warning, Message = "Closed the connection with {Peer}: it read nothing for {StalledMilliseconds} ms while {QueuedBytes} bytes of control frames waited for it, past {Setting}")]
    public static partial void StalledPeer(ILogger logger, string peer, long stalledMilliseconds, long queuedBytes, string setting);

    [LoggerMessage(EventId = 3009, EventName = "TcpClusterPeerRefused", Level = LogLevel.Warning, Message = "Refused the connection from {Peer}: it is not a member of this cluster (Tls:Mode=cluster): {Reason}")]
    public static partial void ClusterPeerRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 3010, EventName = "TcpClusterServerRefused", Level = LogLevel.Warning, Message = "Refused the server {Address}: its certificate is not from this cluster's CA (Tls:Mode=cluster): {Reason}")]
    public static partial void ClusterServerRefused(ILogger logger, Uri address, string reason);

    [LoggerMessage(EventId = 3011, EventName = "TcpStreamViolation", Level = LogLevel.Warning, Message = "Ended stream {StreamId} with {Peer}, which broke the protocol on it; the connection carries on: {Reason}")]
    public static partial void StreamViolation(ILogger logger, uint streamId, string peer, string reason);

    [LoggerMessage(EventId = 3012, EventName = "TcpLowLatencyCapReached", Level = LogLevel.Warning, Message = "{Running} TCP connections of this process already have a thread of their own, the most {Setting} allows; this {Role}'s further connections run in the default mode while it stays so (said once per {Role})")]
    public static partial void LowLatencyCapReached(ILogger logger, int running, string setting, string role);

    [LoggerMessage(EventId = 3013, EventName = "TcpConnectionThreadFailed", Level = LogLevel.Error, Message = "A TCP connection's thread ended on an unexpected error; that connection is lost")]
    public static partial void ConnectionThreadFailed(ILogger logger, Exception exception);
}
