using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Nats;

/// <summary>What the NATS transport's connections log, with event ids 3101–3107.</summary>
internal static partial class NatsLog
{
    [LoggerMessage(EventId = 3101, EventName = "NatsDisconnected", Level = LogLevel.Warning, Message = "The {Role} lost its NATS connection ({Reason}); reconnecting. Requests in flight on it fail with Unavailable.")]
    public static partial void Disconnected(ILogger logger, string role, string reason);

    [LoggerMessage(EventId = 3102, EventName = "NatsReconnected", Level = LogLevel.Information, Message = "The {Role} is connected to NATS again through {Server}; its subscriptions are restored.")]
    public static partial void Reconnected(ILogger logger, string role, string server);

    [LoggerMessage(EventId = 3103, EventName = "NatsReconnectFailed", Level = LogLevel.Warning, Message = "The {Role} could not reconnect to NATS: {Reason} It keeps trying; check Plexus:Transports:Nats:Url and that nats-server runs.")]
    public static partial void ReconnectFailed(ILogger logger, string role, string reason);

    [LoggerMessage(EventId = 3104, EventName = "NatsServerError", Level = LogLevel.Warning, Message = "nats-server reported an error to the {Role}: {Error}")]
    public static partial void ServerError(ILogger logger, string role, string error);

    [LoggerMessage(EventId = 3105, EventName = "NatsLameDuck", Level = LogLevel.Warning, Message = "nats-server {Server} entered lame-duck mode: it will close the {Role}'s connection, which then moves to another server of the cluster. With a single server, requests fail until it is back.")]
    public static partial void LameDuck(ILogger logger, string role, Uri server);

    [LoggerMessage(EventId = 3106, EventName = "NatsConnected", Level = LogLevel.Debug, Message = "The {Role} is connected to NATS through {Server} (max_payload {MaxPayload} bytes).")]
    public static partial void Connected(ILogger logger, string role, string server, int maxPayload);

    [LoggerMessage(EventId = 3107, EventName = "NatsServicesNotFollowed", Level = LogLevel.Warning, Message = "The NATS services and queue subjects could not follow a change of the endpoints served ({Reason}); they catch up at the next change. Plexus clients are not affected.")]
    public static partial void ServicesNotFollowed(ILogger logger, string reason);
}
