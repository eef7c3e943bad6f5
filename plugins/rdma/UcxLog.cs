using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Rdma;

/// <summary>The UCX bulk transport's log messages (event ids 3400–3419).</summary>
internal static partial class UcxLog
{
    [LoggerMessage(EventId = 3400, EventName = "UcxWorkerFailed", Level = LogLevel.Error, Message = "The UCX worker thread failed; bulk transfers through it fail until the node restarts.")]
    public static partial void WorkerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3401, EventName = "UcxPeerFailed", Level = LogLevel.Warning, Message = "A UCX peer's endpoint failed ({Status}); transfers to it fail until it answers again.")]
    public static partial void PeerFailed(ILogger logger, string status);

    [LoggerMessage(EventId = 3402, EventName = "UcxUnavailable", Level = LogLevel.Warning, Message = "The UCX bulk transport is not available: {Reason}")]
    public static partial void Unavailable(ILogger logger, string reason);
}
