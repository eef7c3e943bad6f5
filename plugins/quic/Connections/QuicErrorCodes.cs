namespace Plexus.Transport.Quic.Connections;

/// <summary>The application error codes of the Plexus QUIC protocol (docs/protocol/quic.md).</summary>
internal static class QuicErrorCodes
{
    public const ulong NoError = 0x0;
    public const ulong Cancelled = 0x1;
    public const ulong Timeout = 0x2;
    public const ulong Refused = 0x3;
    public const ulong Protocol = 0x4;
    public const ulong Shutdown = 0x5;
    public const ulong CodecUnknown = 0x10;
    public const ulong Settings = 0x11;
    public const ulong Stalled = 0x12;
}
