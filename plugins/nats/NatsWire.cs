using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Globalization;
using NATS.Client.Core;

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

    /// <summary>On a <c>msgs</c> frame: how many messages it carries.</summary>
    public static ReadOnlySpan<byte> Count => "Plexus-Count"u8;

    /// <summary>On a request head: the requester reads <c>msgs</c> frames (value 1 or more) and <c>lasts</c> frames (2 or more).</summary>
    public static ReadOnlySpan<byte> Packed => "Plexus-Packed"u8;

    /// <summary>On a server's answers: it reads <c>heads</c> frames (value 1 or more).</summary>
    public static ReadOnlySpan<byte> Batch => "Plexus-Batch"u8;

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

        /// <summary>Server: several whole messages, each a u32 big-endian length and its bytes.</summary>
        public static ReadOnlySpan<byte> Msgs => "msgs"u8;

        /// <summary>Server: several whole messages and the end of the stream, in one NATS message.</summary>
        public static ReadOnlySpan<byte> MsgsLast => "msgs-last"u8;

        /// <summary>Server: the one-frame answers of several requests of one client (to <c>_INBOX.&lt;id&gt;.lasts</c>).</summary>
        public static ReadOnlySpan<byte> Lasts => "lasts"u8;

        /// <summary>Client: the heads of several requests to one request subject.</summary>
        public static ReadOnlySpan<byte> Heads => "heads"u8;

        /// <summary>Server: the answer to a ping.</summary>
        public static ReadOnlySpan<byte> Pong => "pong"u8;

        /// <summary>Client: more credit.</summary>
        public static ReadOnlySpan<byte> CreditKind => "credit"u8;

        /// <summary>Client: stop the request.</summary>
        public static ReadOnlySpan<byte> Cancel => "cancel"u8;

        /// <summary>Client: still here; answer with pong.</summary>
        public static ReadOnlySpan<byte> Ping => "ping"u8;
    }

    /// <summary>Whether a caller's header name can travel as a NATS header: visible ASCII without ':'.</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when it can.</returns>
    public static bool IsValidHeaderName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is <= ' ' or >= (char)0x7F or ':')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a header value can travel as a NATS header: no line breaks.</summary>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> when it can.</returns>
    public static bool IsValidHeaderValue(string value) => value.AsSpan().IndexOfAny('\r', '\n') < 0;

    /// <summary>Header names a caller may not use: the transport's and the NATS server's.</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when reserved.</returns>
    public static bool IsReserved(string name) =>
        name.StartsWith("Plexus-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Nats-", StringComparison.OrdinalIgnoreCase);

    /// <summary>Frame kinds and header names as the NATS client writes them.</summary>
    public static class Names
    {
        /// <summary>The frame kind header.</summary>
        public const string Frame = "Plexus-Frame";

        /// <summary>The sequence number header.</summary>
        public const string Seq = "Plexus-Seq";

        /// <summary>The length header.</summary>
        public const string Length = "Plexus-Length";

        /// <summary>The cumulative credit header.</summary>
        public const string Credit = "Plexus-Credit";

        /// <summary>The error code header.</summary>
        public const string ErrorCode = "Plexus-Error-Code";

        /// <summary>The refused marker.</summary>
        public const string Refused = "Plexus-Refused";

        /// <summary>The request id header.</summary>
        public const string RequestId = "Plexus-Request-Id";

        /// <summary>The deadline header.</summary>
        public const string Deadline = "Plexus-Deadline";

        /// <summary>The window header.</summary>
        public const string Window = "Plexus-Window";

        /// <summary>The keep-alive header.</summary>
        public const string KeepAlive = "Plexus-Keepalive";

        /// <summary>The message count header of a <c>msgs</c> frame.</summary>
        public const string Count = "Plexus-Count";

        /// <summary>The head header announcing that the requester reads <c>msgs</c> frames.</summary>
        public const string Packed = "Plexus-Packed";

        /// <summary>See <see cref="Kind.Data"/>.</summary>
        public const string Data = "data";

        /// <summary>See <see cref="Kind.Part"/>.</summary>
        public const string Part = "part";

        /// <summary>See <see cref="Kind.End"/>.</summary>
        public const string End = "end";

        /// <summary>See <see cref="Kind.Last"/>.</summary>
        public const string Last = "last";

        /// <summary>See <see cref="Kind.Error"/>.</summary>
        public const string Error = "error";

        /// <summary>See <see cref="Kind.Msgs"/>.</summary>
        public const string Msgs = "msgs";

        /// <summary>See <see cref="Kind.MsgsLast"/>.</summary>
        public const string MsgsLast = "msgs-last";

        /// <summary>See <see cref="Kind.Lasts"/>; also the last token of the subject they go to.</summary>
        public const string Lasts = "lasts";

        /// <summary>See <see cref="Kind.Heads"/>.</summary>
        public const string Heads = "heads";

        /// <summary>The server's header announcing that it reads <c>heads</c> frames.</summary>
        public const string Batch = "Plexus-Batch";

        /// <summary>See <see cref="Kind.Pong"/>.</summary>
        public const string Pong = "pong";

        /// <summary>See <see cref="Kind.CreditKind"/>.</summary>
        public const string CreditKind = "credit";

        /// <summary>See <see cref="Kind.Cancel"/>.</summary>
        public const string Cancel = "cancel";

        /// <summary>See <see cref="Kind.Ping"/>.</summary>
        public const string Ping = "ping";
    }

    // Sequence numbers and credits repeat; most frames need no new string for them.
    private static readonly string[] SmallNumbers = CreateSmallNumbers(1024);

    /// <summary>
    /// Fills <paramref name="headers"/> (cleared first) with a frame's headers: its kind and up to two numbers. The NATS
    /// client writes headers before a publish returns, so one object per sender is reused for every frame.
    /// </summary>
    /// <param name="headers">The sender's headers object.</param>
    /// <param name="kind">The frame kind (<see cref="Names"/>).</param>
    /// <param name="name1">A header name, or <see langword="null"/>.</param>
    /// <param name="value1">Its value.</param>
    /// <param name="name2">A second header name, or <see langword="null"/>.</param>
    /// <param name="value2">Its value.</param>
    /// <param name="refused">Whether to mark an error frame as refused before any work.</param>
    /// <param name="batch">Whether to say that this server reads <c>heads</c> frames.</param>
    /// <returns><paramref name="headers"/>.</returns>
    public static NatsHeaders Headers(NatsHeaders headers, string kind, string? name1 = null, long value1 = 0, string? name2 = null, long value2 = 0, bool refused = false, bool batch = false)
    {
        headers.Clear();
        headers[Names.Frame] = kind;
        if (name1 is not null)
        {
            headers[name1] = Number(value1);
        }

        if (name2 is not null)
        {
            headers[name2] = Number(value2);
        }

        if (refused)
        {
            headers[Names.Refused] = "1";
        }

        if (batch)
        {
            headers[Names.Batch] = "1";
        }

        return headers;
    }

    /// <summary>A number as a header value.</summary>
    /// <param name="value">The number.</param>
    /// <returns>Its decimal text.</returns>
    public static string Number(long value) =>
        value >= 0 && value < SmallNumbers.Length ? SmallNumbers[value] : value.ToString(CultureInfo.InvariantCulture);

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

    private static string[] CreateSmallNumbers(int count)
    {
        var numbers = new string[count];
        for (var i = 0; i < count; i++)
        {
            numbers[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        return numbers;
    }
}
