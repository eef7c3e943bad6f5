using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>
/// The transport's wire vocabulary on top of NATS: header names, frame kinds and the helpers that read them without
/// allocating. See docs/protocol/nats.md.
/// </summary>
internal static class NatsWire
{
    /// <summary>Cost charged against the credit window for each data or part frame on top of its payload, so that empty messages are bounded too.</summary>
    public const int FrameCost = 64;

    /// <summary>The frame kind.</summary>
    public static ReadOnlySpan<byte> Frame => "Plexus-Frame"u8;

    /// <summary>The frame's sequence number within its direction of the request.</summary>
    public static ReadOnlySpan<byte> Seq => "Plexus-Seq"u8;

    /// <summary>The request id.</summary>
    public static ReadOnlySpan<byte> RequestId => "Plexus-Request-Id"u8;

    /// <summary>The deadline, ISO 8601 round-trip ("O") in UTC.</summary>
    public static ReadOnlySpan<byte> Deadline => "Plexus-Deadline"u8;

    /// <summary>The response credit window the requester grants, in bytes.</summary>
    public static ReadOnlySpan<byte> Window => "Plexus-Window"u8;

    /// <summary>The requester's keep-alive interval in milliseconds.</summary>
    public static ReadOnlySpan<byte> KeepAlive => "Plexus-Keepalive"u8;

    /// <summary>The total length of a request payload or of a chunked response message.</summary>
    public static ReadOnlySpan<byte> Length => "Plexus-Length"u8;

    /// <summary>The cumulative credit: bytes (with frame costs) the requester has consumed.</summary>
    public static ReadOnlySpan<byte> Credit => "Plexus-Credit"u8;

    /// <summary>The numeric <see cref="PlexusErrorCode"/> of an error or cancel frame.</summary>
    public static ReadOnlySpan<byte> ErrorCode => "Plexus-Error-Code"u8;

    /// <summary>On an error frame: the request was refused before any work, so it may go elsewhere.</summary>
    public static ReadOnlySpan<byte> Refused => "Plexus-Refused"u8;

    /// <summary>Kinds of frames.</summary>
    public static class Kind
    {
        /// <summary>Server: one whole response message.</summary>
        public static ReadOnlySpan<byte> Data => "data"u8;

        /// <summary>Either way: a chunk of a payload too large for one NATS message.</summary>
        public static ReadOnlySpan<byte> Part => "part"u8;

        /// <summary>Server: the end of the stream.</summary>
        public static ReadOnlySpan<byte> End => "end"u8;

        /// <summary>One whole message that also ends the stream: <c>data</c> and <c>end</c> in one NATS message.</summary>
        public static ReadOnlySpan<byte> Last => "last"u8;

        /// <summary>Server: the stream failed; the payload is the message.</summary>
        public static ReadOnlySpan<byte> Error => "error"u8;

        /// <summary>Server: the answer to a ping.</summary>
        public static ReadOnlySpan<byte> Pong => "pong"u8;

        /// <summary>Client: more credit.</summary>
        public static ReadOnlySpan<byte> CreditKind => "credit"u8;

        /// <summary>Client: stop the request.</summary>
        public static ReadOnlySpan<byte> Cancel => "cancel"u8;

        /// <summary>Client: still here; answer with pong.</summary>
        public static ReadOnlySpan<byte> Ping => "ping"u8;
    }

    /// <summary>Header names a caller may not use: the transport's and the NATS server's.</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when reserved.</returns>
    public static bool IsReserved(string name) =>
        name.StartsWith("Plexus-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Nats-", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes a small header block (frame kind plus up to two numbers) into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least 160 bytes.</param>
    /// <param name="kind">The frame kind.</param>
    /// <param name="name1">A header name, or empty.</param>
    /// <param name="value1">Its value.</param>
    /// <param name="name2">A second header name, or empty.</param>
    /// <param name="value2">Its value.</param>
    /// <param name="refused">Whether to mark an error frame as refused before any work.</param>
    /// <returns>The block's length.</returns>
    public static int Small(Span<byte> destination, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name1 = default, long value1 = 0, ReadOnlySpan<byte> name2 = default, long value2 = 0, bool refused = false)
    {
        var n = 0;
        Put(destination, ref n, "NATS/1.0\r\n"u8);
        Put(destination, ref n, Frame);
        Put(destination, ref n, ": "u8);
        Put(destination, ref n, kind);
        Put(destination, ref n, "\r\n"u8);
        if (!name1.IsEmpty)
        {
            PutNumber(destination, ref n, name1, value1);
        }

        if (!name2.IsEmpty)
        {
            PutNumber(destination, ref n, name2, value2);
        }

        if (refused)
        {
            PutNumber(destination, ref n, Refused, 1);
        }

        Put(destination, ref n, "\r\n"u8);
        return n;
    }

    /// <summary>The header block as one span: the buffer's own when contiguous, else copied into <paramref name="scratch"/> or a rented array.</summary>
    /// <param name="headers">The block.</param>
    /// <param name="scratch">A stack buffer for small blocks.</param>
    /// <param name="rented">A rented array to return when one was needed.</param>
    /// <returns>The span.</returns>
    public static ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> headers, Span<byte> scratch, out byte[]? rented)
    {
        rented = null;
        if (headers.IsSingleSegment)
        {
            return headers.FirstSpan;
        }

        if (headers.Length <= scratch.Length)
        {
            headers.CopyTo(scratch);
            return scratch[..(int)headers.Length];
        }

        rented = ArrayPool<byte>.Shared.Rent((int)headers.Length);
        headers.CopyTo(rented);
        return rented.AsSpan(0, (int)headers.Length);
    }

    /// <summary>Reads a decimal header value.</summary>
    /// <param name="value">The value.</param>
    /// <param name="number">The number.</param>
    /// <returns><see langword="true"/> when it is a whole number.</returns>
    public static bool TryNumber(ReadOnlySpan<byte> value, out long number) =>
        Utf8Parser.TryParse(value, out number, out var consumed) && consumed == value.Length;

    /// <summary>Whether a header name is <paramref name="expected"/>, ignoring ASCII case.</summary>
    /// <param name="name">The name read.</param>
    /// <param name="expected">The name wanted.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected) => Ascii.EqualsIgnoreCase(name, expected);

    private static void Put(Span<byte> destination, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[n..]);
        n += bytes.Length;
    }

    private static void PutNumber(Span<byte> destination, ref int n, ReadOnlySpan<byte> name, long value)
    {
        Put(destination, ref n, name);
        Put(destination, ref n, ": "u8);
        Utf8Formatter.TryFormat(value, destination[n..], out var written);
        n += written;
        Put(destination, ref n, "\r\n"u8);
    }
}
