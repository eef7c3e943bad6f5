using System.Buffers;
using System.Globalization;
using System.Text;

namespace Plexus.Transport.Nats;

/// <summary>What a request head's NATS headers say: the transport's own headers and the caller's.</summary>
internal sealed class RequestHead
{
    // Most requests carry no headers of the caller's: they share this one instead of an empty dictionary each.
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private RequestHead(string requestId, DateTimeOffset? deadline, long window, long keepAliveMs, long length, IReadOnlyDictionary<string, string> headers, bool plain = false, long packed = 0)
    {
        Plain = plain;
        Packed = packed >= 1;
        AnswersBatched = packed >= 2;
        RequestId = requestId;
        Deadline = deadline;
        Window = window;
        KeepAliveMs = keepAliveMs;
        Length = length;
        Headers = headers;
    }

    /// <summary>
    /// Whether the request came from a plain NATS caller (no Plexus headers, just a reply subject): it is served as a
    /// unary call whose first response message is the one NATS reply.
    /// </summary>
    public bool Plain { get; }

    /// <summary>Whether the requester announced (<c>Plexus-Packed</c>) that it reads <c>msgs</c> frames.</summary>
    public bool Packed { get; }

    /// <summary>Whether the requester announced (<c>Plexus-Packed: 2</c> or more) that it also reads <c>lasts</c> frames.</summary>
    public bool AnswersBatched { get; }

    /// <summary>The request id.</summary>
    public string RequestId { get; }

    /// <summary>The deadline.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>The credit window the requester grants.</summary>
    public long Window { get; }

    /// <summary>The requester's keep-alive interval.</summary>
    public long KeepAliveMs { get; }

    /// <summary>The payload's total length.</summary>
    public long Length { get; }

    /// <summary>The caller's headers.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>
    /// Reads a request head's header block. A message without any of the transport's headers is a plain NATS
    /// request: its payload is the whole request, and its headers (but <c>Nats-*</c>) are the caller's.
    /// </summary>
    /// <param name="block">The block, empty when the message has none.</param>
    /// <param name="payloadLength">The message's payload length: a plain request's whole length.</param>
    /// <returns>The head.</returns>
    /// <exception cref="FormatException">A transport header is missing or malformed, or the deadline is malformed.</exception>
    public static RequestHead Read(in ReadOnlySequence<byte> block, long payloadLength)
    {
        if (block.IsEmpty)
        {
            return new RequestHead(PlainRequestId(), null, 0, 0, payloadLength, NoHeaders, plain: true);
        }

        var bytes = block.IsSingleSegment ? block.FirstSpan : block.ToArray();
        var reader = new NatsHeaderReader(bytes);
        string? requestId = null;
        DateTimeOffset? deadline = null;
        long window = -1, keepAlive = -1, length = -1;
        long packed = 0;
        Dictionary<string, string>? headers = null;
        while (reader.MoveNext())
        {
            var name = reader.Name;
            var value = reader.Value;
            if (NatsWire.Is(name, NatsWire.RequestId))
            {
                requestId = Encoding.UTF8.GetString(value);
            }
            else if (NatsWire.Is(name, NatsWire.Deadline))
            {
                deadline = DateTimeOffset.ParseExact(Encoding.ASCII.GetString(value), "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            }
            else if (NatsWire.Is(name, NatsWire.Window))
            {
                window = Number(value, "Plexus-Window");
            }
            else if (NatsWire.Is(name, NatsWire.KeepAlive))
            {
                keepAlive = Number(value, "Plexus-Keepalive");
            }
            else if (NatsWire.Is(name, NatsWire.Length))
            {
                length = Number(value, "Plexus-Length");
            }
            else if (NatsWire.Is(name, NatsWire.Packed))
            {
                // 1: msgs frames; 2 or more: lasts frames too. A later layout announces a higher number and still reads these.
                packed = NatsWire.TryNumber(value, out var version) && version >= 1 ? version : 0;
            }
            else if (!name.StartsWith("Plexus-"u8) && !name.StartsWith("Nats-"u8))
            {
                headers ??= new Dictionary<string, string>(StringComparer.Ordinal);
                headers[Encoding.UTF8.GetString(name)] = Encoding.UTF8.GetString(value);
            }
        }

        if (requestId is null && window < 0 && keepAlive < 0 && length < 0 && deadline is null)
        {
            return new RequestHead(PlainRequestId(), null, 0, 0, payloadLength, headers ?? NoHeaders, plain: true);
        }

        if (requestId is null || window < 1 || keepAlive < 1 || length < 0)
        {
            throw new FormatException("The request lacks Plexus-Request-Id, Plexus-Window, Plexus-Keepalive or Plexus-Length.");
        }

        return new RequestHead(requestId, deadline, window, keepAlive, length, headers ?? NoHeaders, packed: packed);
    }

    /// <summary>Whether a message lacks the head of a Plexus request (a plain NATS caller's), read without allocating.</summary>
    /// <param name="block">The header block.</param>
    /// <returns><see langword="true"/> when it carries no <c>Plexus-Request-Id</c>.</returns>
    public static bool LooksPlain(in ReadOnlySequence<byte> block)
    {
        if (block.IsEmpty)
        {
            return true;
        }

        Span<byte> scratch = stackalloc byte[512];
        var bytes = NatsWire.Contiguous(block, scratch, out var rented);
        try
        {
            var reader = new NatsHeaderReader(bytes);
            while (reader.MoveNext())
            {
                if (NatsWire.Is(reader.Name, NatsWire.RequestId))
                {
                    return false;
                }
            }

            return true;
        }
        catch (FormatException)
        {
            // Not a header block a Plexus client writes.
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // Plain callers send no request id; the node still logs and traces one.
    private static string PlainRequestId() => Guid.NewGuid().ToString("N");

    private static long Number(ReadOnlySpan<byte> value, string name) =>
        NatsWire.TryNumber(value, out var number) && number >= 0
            ? number
            : throw new FormatException($"The header {name} is not a non-negative whole number.");
}
