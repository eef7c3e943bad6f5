namespace Plexus.Transport.Nats.Client;

/// <summary>The server-to-client operations of the NATS protocol.</summary>
internal enum NatsOp
{
    /// <summary>No frame.</summary>
    None = 0,

    /// <summary><c>INFO {json}</c>: the server's facts, sent on connect and when the cluster changes.</summary>
    Info,

    /// <summary><c>MSG subject sid [reply] size</c>: a message without headers.</summary>
    Msg,

    /// <summary><c>HMSG subject sid [reply] header-size total-size</c>: a message with a header block.</summary>
    HMsg,

    /// <summary><c>PING</c>: the server checks that this client is alive; answer with PONG.</summary>
    Ping,

    /// <summary><c>PONG</c>: the answer to one of this client's PINGs.</summary>
    Pong,

    /// <summary><c>+OK</c>: acknowledgement in verbose mode (which this client does not ask for).</summary>
    Ok,

    /// <summary><c>-ERR 'text'</c>: a protocol or authorization error.</summary>
    Err,
}
