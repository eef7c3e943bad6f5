using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Quic.Connections;

/// <summary>The QUIC engine's log messages (event ids 3250–3269).</summary>
internal static partial class QuicEngineLog
{
    [LoggerMessage(EventId = 3250, EventName = "QuicSendFailed", Level = LogLevel.Debug, Message = "A UDP send from {LocalEndPoint} failed ({Error}); QUIC treats it as a lost packet.")]
    public static partial void SendFailed(ILogger logger, IPEndPoint localEndPoint, SocketError error);

    [LoggerMessage(EventId = 3251, EventName = "QuicDatagramFailed", Level = LogLevel.Warning, Message = "A datagram received on {LocalEndPoint} could not be processed; it was dropped and the socket carries on.")]
    public static partial void DatagramFailed(ILogger logger, IPEndPoint localEndPoint, Exception exception);

    [LoggerMessage(EventId = 3252, EventName = "QuicCallbackFailed", Level = LogLevel.Error, Message = "A QUIC callback for the connection with {RemoteEndPoint} failed; the connection is closed.")]
    public static partial void CallbackFailed(ILogger logger, IPEndPoint remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 3253, EventName = "QuicConnectionClosed", Level = LogLevel.Debug, Message = "The QUIC connection with {RemoteEndPoint} ended: {Reason}.")]
    public static partial void ConnectionClosed(ILogger logger, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(EventId = 3254, EventName = "QuicAcceptFailed", Level = LogLevel.Warning, Message = "A QUIC connection from {RemoteEndPoint} could not be set up.")]
    public static partial void AcceptFailed(ILogger logger, IPEndPoint remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 3255, EventName = "QuicSegmentationOffloadUnavailable", Level = LogLevel.Debug, Message = "UDP segmentation offload is not available on {LocalEndPoint} (errno {Error}); packets are sent one datagram at a time.")]
    public static partial void SegmentationOffloadUnavailable(ILogger logger, IPEndPoint localEndPoint, int error);

    [LoggerMessage(EventId = 3256, EventName = "QuicHandshakeRefused", Level = LogLevel.Warning, Message = "A QUIC handshake from {RemoteEndPoint} failed: {Reason}.")]
    public static partial void HandshakeRefused(ILogger logger, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(EventId = 3257, EventName = "QuicStalledPeer", Level = LogLevel.Warning, Message = "Closed the QUIC connection with {RemoteEndPoint}: it acknowledged nothing for {StalledMilliseconds} ms while it was owed {OwedBytes} bytes, past Plexus:Transports:Quic:StalledPeerTimeout (the connection had filled Plexus:Transports:Quic:ConnectionSendBufferBytes, {BudgetBytes} bytes).")]
    public static partial void StalledPeer(ILogger logger, IPEndPoint remoteEndPoint, long stalledMilliseconds, long owedBytes, long budgetBytes);
}
