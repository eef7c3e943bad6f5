namespace Plexus.Transport.Tcp;

/// <summary>Constants of the wire protocol (docs/protocol/tcp.md).</summary>
internal static class Wire
{
    /// <summary>The highest protocol version this build speaks, and the one it offers.</summary>
    public const byte Version = 3;

    /// <summary>The lowest protocol version this build speaks: a peer of version 1 is served as before.</summary>
    public const byte MinVersion = 1;

    /// <summary>The first version with MESSAGES frames (several whole response messages in one frame).</summary>
    public const byte PackedVersion = 2;

    /// <summary>
    /// The first version in which a response's last DATA or MESSAGES frame may carry <see cref="EndStream"/>: the stream
    /// ends normally with that frame, and no END frame follows.
    /// </summary>
    public const byte EndInFrameVersion = 3;

    /// <summary>Handshake kinds.</summary>
    public const byte Hello = 1;

    /// <summary>The server accepts the client's hello.</summary>
    public const byte Accept = 2;

    /// <summary>The server refuses the client's hello.</summary>
    public const byte Reject = 3;

    /// <summary>The fixed part of a handshake message: magic, version, kind, body length.</summary>
    public const int HandshakePrefixLength = 8;

    /// <summary>The largest handshake body.</summary>
    public const int MaxHandshakeBody = 1024;

    /// <summary>Reject reasons.</summary>
    public const byte RejectVersion = 1;

    /// <summary>The server has no codec of the offered name.</summary>
    public const byte RejectCodec = 2;

    /// <summary>The hello could not be read.</summary>
    public const byte RejectMalformed = 3;

    /// <summary>The server is draining.</summary>
    public const byte RejectDraining = 4;

    /// <summary>The client is not a member of the server's cluster (<c>Tls:Mode=cluster</c>): no certificate from its CA.</summary>
    public const byte RejectNotMember = 5;

    /// <summary>The common part of every frame header: type, flags, stream id.</summary>
    public const int CommonHeaderLength = 6;

    /// <summary>The fixed part of a REQUEST header before its endpoint.</summary>
    public const int RequestFixedLength = CommonHeaderLength + 24;

    /// <summary>The credit a REQUEST or DATA frame costs on top of its body, so that empty frames are not free.</summary>
    public const int FrameCharge = 16;

    /// <summary>A MESSAGES frame header: the common part and the u32 message count.</summary>
    public const int MessagesHeaderLength = CommonHeaderLength + 4;

    /// <summary>The u32 length before each message in a MESSAGES frame's body.</summary>
    public const int MessagePrefixBytes = 4;

    /// <summary>
    /// The credit a MESSAGES frame costs beyond its body, per message: each message costs its length + <see cref="FrameCharge"/>,
    /// as in a DATA frame of its own, and its length prefix is part of the body.
    /// </summary>
    public const int PackedCharge = FrameCharge - MessagePrefixBytes;

    /// <summary>A sender waits for at least this much body room (or the rest of the message), to avoid tiny frames.</summary>
    public const int MinimumChunk = 4096;

    /// <summary>The longest error or go-away message sent.</summary>
    public const int MaxMessageBytes = 4096;

    /// <summary>
    /// Flag: the sender sends nothing more on the stream after this frame. On a REQUEST or DATA frame of the client, the
    /// frame carries the last request payload byte; on a DATA frame with <see cref="EndMessage"/> or a MESSAGES frame of
    /// the server (version 3), the response ends normally after the frame's messages, as with an END frame.
    /// </summary>
    public const byte EndStream = 0x01;

    /// <summary>Flag: the frame ends a response message.</summary>
    public const byte EndMessage = 0x02;

    /// <summary>Flag on ERROR: no handler ran; the request may be sent elsewhere.</summary>
    public const byte BeforeFirstByte = 0x01;

    /// <summary>The handshake magic, ASCII <c>PLXT</c>.</summary>
    public static ReadOnlySpan<byte> Magic => "PLXT"u8;
}
