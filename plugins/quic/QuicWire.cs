namespace Plexus.Transport.Quic;

/// <summary>Constants of the wire protocol on top of QUIC (docs/protocol/quic.md).</summary>
internal static class QuicWire
{
    /// <summary>The TLS application protocol both sides must name.</summary>
    public const string Alpn = "plexus/1";

    /// <summary>The protocol version this build speaks (SETTINGS).</summary>
    public const byte Version = 1;

    /// <summary>The smallest frame header and body limit a peer may announce.</summary>
    public const int MinFrameLimit = 1024;

    /// <summary>The longest codec name in SETTINGS.</summary>
    public const int MaxCodecNameLength = 64;

    /// <summary>Frame type: opens a request (client to server).</summary>
    public const byte Request = 1;

    /// <summary>Frame type: payload bytes (both ways).</summary>
    public const byte Data = 2;

    /// <summary>Frame type: a typed error (server to client).</summary>
    public const byte Error = 4;

    /// <summary>Flag on the server's DATA: the frame ends a response message.</summary>
    public const byte EndMessage = 0x02;

    /// <summary>Flag on ERROR: nothing of the response was sent; the request may go elsewhere.</summary>
    public const byte BeforeFirstByte = 0x01;

    /// <summary>The common part of every frame header: type and flags.</summary>
    public const int CommonHeaderLength = 2;

    /// <summary>An ERROR frame header: type, flags, error code.</summary>
    public const int ErrorHeaderLength = 3;

    /// <summary>The longest error message or go-away reason sent, in UTF-8 bytes.</summary>
    public const int MaxMessageBytes = 4096;

    /// <summary>Control message type: the server takes no new request streams on this connection.</summary>
    public const byte GoAway = 1;

    /// <summary>A control message's prefix: type and body length.</summary>
    public const int ControlPrefixLength = 5;

    /// <summary>The SETTINGS magic, ASCII <c>PLXQ</c>.</summary>
    public static ReadOnlySpan<byte> Magic => "PLXQ"u8;
}
