namespace Plexus.Transport.Nats.Client;

/// <summary>What kind of NATS failure a <see cref="NatsException"/> reports.</summary>
internal enum NatsErrorKind
{
    /// <summary>The server could not be reached or the connection was lost.</summary>
    Connection,

    /// <summary>The server refused the credentials.</summary>
    Authorization,

    /// <summary>The bytes on the wire were not valid NATS protocol.</summary>
    Protocol,

    /// <summary>The server answered with <c>-ERR</c>.</summary>
    Server,

    /// <summary>Nobody subscribes to the subject a request went to (status 503).</summary>
    NoResponders,

    /// <summary>An operation took longer than allowed.</summary>
    Timeout,

    /// <summary>Disconnected and the bounded reconnect buffer has no room for more.</summary>
    BufferFull,

    /// <summary>The connection was closed or disposed.</summary>
    Closed,

    /// <summary>TLS was asked for but could not be set up.</summary>
    Tls,

    /// <summary>A message exceeds the server's <c>max_payload</c>.</summary>
    PayloadTooLarge,
}
