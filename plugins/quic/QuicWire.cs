namespace Plexus.Transport.Quic;

/// <summary>Constants of the wire protocol on top of QUIC (docs/protocol/quic.md).</summary>
internal static class QuicWire
{
    /// <summary>The highest protocol version this build speaks, and the one it prefers.</summary>
    public const byte Version = 2;

    /// <summary>The lowest protocol version this build speaks: a peer of version 1 is served as before.</summary>
    public const byte MinVersion = 1;

    /// <summary>The first version with MESSAGES frames (several whole response messages in one frame).</summary>
    public const byte PackedVersion = 2;

    // The TLS application protocol names of the versions, most preferred first, from each highest version on.
    private static readonly string[] FromVersion2 = ["plexus/2", "plexus/1"];
    private static readonly string[] FromVersion1 = ["plexus/1"];

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

    /// <summary>Frame type: several whole response messages, each with its length (server to client, version 2).</summary>
    public const byte Messages = 10;

    /// <summary>A MESSAGES frame header: type, flags, u32 message count.</summary>
    public const int MessagesHeaderLength = CommonHeaderLength + 4;

    /// <summary>The u32 length before each message in a MESSAGES frame's body.</summary>
    public const int MessagePrefixBytes = 4;

    /// <summary>Whole messages that take up to this much with their length travel packed, as on TCP.</summary>
    public const int PackedMessageRoom = 4096;

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

    /// <summary>The application protocols a side offers (a client) or accepts (a server) when it speaks up to <paramref name="highest"/>.</summary>
    public static IReadOnlyList<string> Alpns(byte highest) => highest >= 2 ? FromVersion2 : FromVersion1;

    /// <summary>The protocol version an application protocol name stands for.</summary>
    public static byte VersionOf(string alpn) => alpn == FromVersion2[0] ? (byte)2 : (byte)1;

    /// <summary>The SETTINGS magic, ASCII <c>PLXQ</c>.</summary>
    public static ReadOnlySpan<byte> Magic => "PLXQ"u8;
}
