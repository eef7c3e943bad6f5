using System.Buffers.Binary;
using System.Net.Sockets;

namespace Plexus.Transport.Streams;

// The stream protocol (docs/protocol/stream.md): a client writes the preamble, a HEAD frame and the payload's bytes,
// then only reads; the server answers with MESSAGE frames and one END or ERROR. A frame is [kind: u8][length: u32 BE]
// [body]. The end of the connection is the cancel, both ways.
internal static class StreamWire
{
    public const byte Head = 1, Message = 2, End = 3, Error = 4;
    public const int FrameHeaderBytes = 5;
    public const int PreambleBytes = 4;
    public const int MaxHeadBytes = 64 * 1024;
    public const int MaxErrorMessageBytes = 4096;

    /// <summary>ASCII <c>PXS</c> and the protocol version, 1.</summary>
    public static ReadOnlySpan<byte> Preamble => "PXS\u0001"u8;

    public static void WriteFrameHeader(Span<byte> destination, byte kind, int length)
    {
        destination[0] = kind;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    // What ends a read or a write when the peer left, the connection was closed to cancel, or it was aborted.
    public static bool IsGone(Exception exception) =>
        exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException;
}
