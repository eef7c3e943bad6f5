namespace Plexus.Transport.Tcp;

/// <summary>Frame types of the TCP protocol (docs/protocol/tcp.md).</summary>
internal enum FrameType : byte
{
    /// <summary>Opens a stream: endpoint, ids, deadline, headers, and the first payload bytes.</summary>
    Request = 1,

    /// <summary>Payload bytes of a stream.</summary>
    Data = 2,

    /// <summary>The response stream ended successfully.</summary>
    End = 3,

    /// <summary>The request failed: a typed code and a message.</summary>
    Error = 4,

    /// <summary>The client gave up on the request.</summary>
    Cancel = 5,

    /// <summary>Flow-control credit returned to the sender.</summary>
    Credit = 6,

    /// <summary>A keep-alive probe.</summary>
    Ping = 7,

    /// <summary>The answer to a ping.</summary>
    Pong = 8,

    /// <summary>The server takes no new streams on this connection.</summary>
    GoAway = 9,

    /// <summary>Several whole response messages of one stream, each with its length (version 2).</summary>
    Messages = 10,
}
