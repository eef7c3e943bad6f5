namespace Plexus.Transport.Nats;

/// <summary>The kinds of transport frames (the <c>Plexus-Frame</c> header).</summary>
internal enum FrameKind
{
    /// <summary>No <c>Plexus-Frame</c> header: a request head, or a NATS status message.</summary>
    None,

    /// <summary>One whole response message.</summary>
    Data,

    /// <summary>A chunk of a payload too large for one NATS message.</summary>
    Part,

    /// <summary>The end of the response stream.</summary>
    End,

    /// <summary>One whole response message and the end of the stream, in one frame.</summary>
    Last,

    /// <summary>The response stream failed.</summary>
    Error,

    /// <summary>Several whole response messages.</summary>
    Msgs,

    /// <summary>Several whole response messages and the end of the stream, in one frame.</summary>
    MsgsLast,

    /// <summary>The heads of several requests of one client to one subject.</summary>
    Heads,

    /// <summary>The one-frame answers of several requests of one client.</summary>
    Lasts,

    /// <summary>The answer to a ping.</summary>
    Pong,

    /// <summary>More credit from the requester.</summary>
    Credit,

    /// <summary>The requester stops the request.</summary>
    Cancel,

    /// <summary>The requester is still there.</summary>
    Ping,

    /// <summary>A frame kind this version does not know.</summary>
    Unknown,
}
