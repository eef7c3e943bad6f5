using System.Text;
using System.Buffers;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// Parses server operations from the bytes read so far. Stateless between calls: an incomplete frame leaves the
/// input untouched and the caller reads more, so a frame may be split anywhere across reads. Payload sizes are checked
/// against <c>max_payload</c> before the payload is waited for, and a malformed control line is a
/// <see cref="NatsProtocolException"/>.
/// </summary>
internal sealed class NatsParser
{
    /// <summary>The longest control line accepted, as nats-server's own default <c>max_control_line</c>; INFO may be longer.</summary>
    public const int DefaultMaxControlLine = 4096;

    // INFO carries the cluster's connect_urls and can outgrow a normal control line.
    private const int MaxInfoLine = 64 * 1024;
    private const int MaxArguments = 5;

    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    private readonly int _maxControlLine;

    /// <summary>Creates a parser.</summary>
    /// <param name="maxPayload">The largest message (headers and payload) accepted.</param>
    /// <param name="maxControlLine">The longest control line accepted, INFO excepted.</param>
    public NatsParser(long maxPayload, int maxControlLine = DefaultMaxControlLine)
    {
        MaxPayload = maxPayload;
        _maxControlLine = maxControlLine;
    }

    /// <summary>The largest message accepted; raised when the server's INFO says so.</summary>
    public long MaxPayload { get; set; }

    /// <summary>Reads one operation from the front of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The bytes read so far; advanced past the frame on success.</param>
    /// <param name="frame">The frame, as slices of <paramref name="buffer"/>.</param>
    /// <returns><see langword="false"/> when more bytes are needed.</returns>
    /// <exception cref="NatsProtocolException">The bytes are not a valid operation.</exception>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out NatsFrame frame)
    {
        frame = default;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, CrLf, advancePastDelimiter: true))
        {
            // No line end yet: fine unless the line is already longer than any valid one.
            if (buffer.Length > MaxInfoLine || (buffer.Length > _maxControlLine && !StartsWithInfo(buffer)))
            {
                throw new NatsProtocolException($"The server sent a control line longer than {_maxControlLine} bytes without a line end.");
            }

            return false;
        }

        if (line.Length > MaxInfoLine || (line.Length > _maxControlLine && !StartsWithInfo(line)))
        {
            throw new NatsProtocolException($"The server sent a control line of {line.Length} bytes; the limit is {_maxControlLine}.");
        }

        // Control lines are short: work on one contiguous span (a copy only when the line spans segments).
        byte[]? rented = null;
        var text = line.IsSingleSegment ? line.FirstSpan : Copy(line, out rented);
        try
        {
            var afterLine = reader.Position;
            return Parse(ref buffer, line, text, afterLine, out frame);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool StartsWithInfo(ReadOnlySequence<byte> bytes)
    {
        Span<byte> head = stackalloc byte[4];
        if (bytes.Length < 4)
        {
            return false;
        }

        bytes.Slice(0, 4).CopyTo(head);
        return Ascii.EqualsIgnoreCase(head, "INFO"u8);
    }

    private static ReadOnlySpan<byte> Copy(ReadOnlySequence<byte> line, out byte[] rented)
    {
        rented = ArrayPool<byte>.Shared.Rent((int)line.Length);
        line.CopyTo(rented);
        return rented.AsSpan(0, (int)line.Length);
    }

    private bool Parse(ref ReadOnlySequence<byte> buffer, ReadOnlySequence<byte> line, ReadOnlySpan<byte> text, SequencePosition afterLine, out NatsFrame frame)
    {
        frame = default;
        var opEnd = text.IndexOfAny((byte)' ', (byte)'\t');
        var op = opEnd < 0 ? text : text[..opEnd];
        var rest = opEnd < 0 ? ReadOnlySpan<byte>.Empty : text[(opEnd + 1)..];
        var restOffset = opEnd < 0 ? text.Length : opEnd + 1;

        if (Ascii.EqualsIgnoreCase(op, "MSG"u8))
        {
            return ParseMessage(ref buffer, line, text, restOffset, afterLine, withHeaders: false, out frame);
        }

        if (Ascii.EqualsIgnoreCase(op, "HMSG"u8))
        {
            return ParseMessage(ref buffer, line, text, restOffset, afterLine, withHeaders: true, out frame);
        }

        if (Ascii.EqualsIgnoreCase(op, "PING"u8))
        {
            RequireNoArguments(rest, "PING");
            frame = new NatsFrame(NatsOp.Ping, default, 0, default, default, default);
        }
        else if (Ascii.EqualsIgnoreCase(op, "PONG"u8))
        {
            RequireNoArguments(rest, "PONG");
            frame = new NatsFrame(NatsOp.Pong, default, 0, default, default, default);
        }
        else if (Ascii.EqualsIgnoreCase(op, "+OK"u8))
        {
            RequireNoArguments(rest, "+OK");
            frame = new NatsFrame(NatsOp.Ok, default, 0, default, default, default);
        }
        else if (Ascii.EqualsIgnoreCase(op, "INFO"u8))
        {
            var json = TrimStart(rest, ref restOffset);
            if (json.IsEmpty || json[0] != (byte)'{')
            {
                throw new NatsProtocolException("The server sent INFO without a JSON object.");
            }

            frame = new NatsFrame(NatsOp.Info, default, 0, default, default, line.Slice(restOffset));
        }
        else if (Ascii.EqualsIgnoreCase(op, "-ERR"u8))
        {
            var message = TrimStart(rest, ref restOffset);
            var length = message.Length;
            while (length > 0 && message[length - 1] is (byte)' ' or (byte)'\t')
            {
                length--;
            }

            // The text is quoted: -ERR 'Authorization Violation'.
            if (length >= 2 && message[0] == (byte)'\'' && message[length - 1] == (byte)'\'')
            {
                restOffset++;
                length -= 2;
            }

            frame = new NatsFrame(NatsOp.Err, default, 0, default, default, line.Slice(restOffset, length));
        }
        else
        {
            throw new NatsProtocolException($"The server sent an unknown operation '{Printable(op)}'.");
        }

        buffer = buffer.Slice(afterLine);
        return true;
    }

    private bool ParseMessage(
        ref ReadOnlySequence<byte> buffer,
        ReadOnlySequence<byte> line,
        ReadOnlySpan<byte> text,
        int restOffset,
        SequencePosition afterLine,
        bool withHeaders,
        out NatsFrame frame)
    {
        frame = default;
        var name = withHeaders ? "HMSG" : "MSG";

        // Arguments as (offset, length) pairs into the line, so the frame can slice the original bytes.
        Span<Range> args = stackalloc Range[MaxArguments + 1];
        var count = Split(text[restOffset..], restOffset, args);
        var expectedMin = withHeaders ? 4 : 3;
        if (count < expectedMin || count > expectedMin + 1)
        {
            throw new NatsProtocolException($"The server sent a malformed {name} line: expected {expectedMin} or {expectedMin + 1} arguments, got {count}.");
        }

        var sid = ParseNumber(text[args[1]], name, "subscription id");
        var hasReply = count == expectedMin + 1;
        long headerSize = 0;
        long totalSize;
        if (withHeaders)
        {
            headerSize = ParseNumber(text[args[hasReply ? 3 : 2]], name, "header size");
            totalSize = ParseNumber(text[args[hasReply ? 4 : 3]], name, "total size");
            if (headerSize > totalSize)
            {
                throw new NatsProtocolException($"The server sent an HMSG whose header size ({headerSize}) exceeds its total size ({totalSize}).");
            }
        }
        else
        {
            totalSize = ParseNumber(text[args[hasReply ? 3 : 2]], name, "size");
        }

        // Checked before waiting for (and so before buffering) the payload.
        if (totalSize > MaxPayload)
        {
            throw new NatsProtocolException($"The server announced a {name} of {totalSize} bytes, above max_payload ({MaxPayload} bytes).");
        }

        var afterLineBuffer = buffer.Slice(afterLine);
        if (afterLineBuffer.Length < totalSize + 2)
        {
            return false;
        }

        var body = afterLineBuffer.Slice(0, totalSize);
        var trailer = afterLineBuffer.Slice(totalSize, 2);
        Span<byte> end = stackalloc byte[2];
        trailer.CopyTo(end);
        if (end[0] != (byte)'\r' || end[1] != (byte)'\n')
        {
            throw new NatsProtocolException($"The server sent a {name} whose payload is not followed by CRLF: the announced size ({totalSize}) is wrong.");
        }

        var subject = Slice(line, args[0]);
        var reply = hasReply ? Slice(line, args[2]) : default;
        frame = new NatsFrame(
            withHeaders ? NatsOp.HMsg : NatsOp.Msg,
            subject,
            sid,
            reply,
            withHeaders ? body.Slice(0, headerSize) : default,
            withHeaders ? body.Slice(headerSize) : body);
        buffer = afterLineBuffer.Slice(totalSize + 2);
        return true;
    }

    private static ReadOnlySequence<byte> Slice(ReadOnlySequence<byte> line, Range range) =>
        line.Slice(range.Start.Value, range.End.Value - range.Start.Value);

    private static int Split(ReadOnlySpan<byte> rest, int offset, Span<Range> args)
    {
        var count = 0;
        var i = 0;
        while (i < rest.Length)
        {
            while (i < rest.Length && rest[i] is (byte)' ' or (byte)'\t')
            {
                i++;
            }

            if (i == rest.Length)
            {
                break;
            }

            var start = i;
            while (i < rest.Length && rest[i] is not ((byte)' ' or (byte)'\t'))
            {
                i++;
            }

            if (count == args.Length)
            {
                return count + 1;
            }

            args[count++] = new Range(offset + start, offset + i);
        }

        return count;
    }

    private static long ParseNumber(ReadOnlySpan<byte> digits, string op, string what)
    {
        if (digits.IsEmpty || digits.Length > 18)
        {
            throw new NatsProtocolException($"The server sent a {op} with an invalid {what} '{Printable(digits)}'.");
        }

        long value = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                throw new NatsProtocolException($"The server sent a {op} with an invalid {what} '{Printable(digits)}'.");
            }

            value = (value * 10) + (b - '0');
        }

        return value;
    }

    private static void RequireNoArguments(ReadOnlySpan<byte> rest, string op)
    {
        foreach (var b in rest)
        {
            if (b is not ((byte)' ' or (byte)'\t'))
            {
                throw new NatsProtocolException($"The server sent {op} with unexpected arguments '{Printable(rest)}'.");
            }
        }
    }

    private static ReadOnlySpan<byte> TrimStart(ReadOnlySpan<byte> rest, ref int offset)
    {
        var i = 0;
        while (i < rest.Length && rest[i] is (byte)' ' or (byte)'\t')
        {
            i++;
        }

        offset += i;
        return rest[i..];
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var shown = bytes.Length > 32 ? bytes[..32] : bytes;
        var chars = new char[shown.Length];
        for (var i = 0; i < shown.Length; i++)
        {
            chars[i] = shown[i] is >= 0x20 and < 0x7F ? (char)shown[i] : '?';
        }

        return bytes.Length > 32 ? new string(chars) + "..." : new string(chars);
    }
}
