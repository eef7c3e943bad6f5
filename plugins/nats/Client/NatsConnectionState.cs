namespace Plexus.Transport.Nats.Client;

/// <summary>Where a <see cref="NatsConnection"/> is in its life.</summary>
internal enum NatsConnectionState
{
    /// <summary>Not yet connected.</summary>
    Created,

    /// <summary>The first connection is being made.</summary>
    Connecting,

    /// <summary>Connected and ready.</summary>
    Connected,

    /// <summary>The connection was lost; reconnect attempts are running and publishes are buffered.</summary>
    Reconnecting,

    /// <summary>Unsubscribing and flushing before close.</summary>
    Draining,

    /// <summary>Closed for good.</summary>
    Closed,
}
