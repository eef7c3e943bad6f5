using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Rdma;

/// <summary>The UCX bulk transport's log messages (event ids 3400–3419).</summary>
internal static partial class UcxLog
{
    [LoggerMessage(EventId = 3400, EventName = "UcxWorkerFailed", Level = LogLevel.Error, Message = "The UCX worker thread failed; bulk transfers through it fail until the node restarts.")]
    public static partial void WorkerFailed(ILogger logger, Exception exception);

    // Debug: in the request plane every caller that exits ends its endpoint this way; a transfer that fails because of
    // it is reported by the transfer's own error (and the bulk path's once-per-peer warning).
    [LoggerMessage(EventId = 3401, EventName = "UcxPeerFailed", Level = LogLevel.Debug, Message = "A UCX peer's endpoint failed ({Status}): the peer's process ended or the way to it broke; the next transfer to it connects again.")]
    public static partial void PeerFailed(ILogger logger, string status);

    [LoggerMessage(EventId = 3402, EventName = "UcxUnavailable", Level = LogLevel.Warning, Message = "The UCX bulk transport is not available: {Reason}")]
    public static partial void Unavailable(ILogger logger, string reason);
}
