using System.Buffers;
using System.Globalization;
using System.Text;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>What a request head's NATS headers say: the transport's own headers and the caller's.</summary>
internal sealed class RequestHead
{
    private RequestHead(string requestId, DateTimeOffset? deadline, long window, long keepAliveMs, long length, Dictionary<string, string> headers)
    {
        RequestId = requestId;
        Deadline = deadline;
        Window = window;
        KeepAliveMs = keepAliveMs;
        Length = length;
        Headers = headers;
    }

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
    public Dictionary<string, string> Headers { get; }

    /// <summary>Reads a request head's header block.</summary>
    /// <param name="block">The block.</param>
    /// <returns>The head.</returns>
    /// <exception cref="NatsProtocolException">A transport header is missing or malformed.</exception>
    /// <exception cref="FormatException">The deadline is malformed.</exception>
    public static RequestHead Read(in ReadOnlySequence<byte> block)
    {
        if (block.IsEmpty)
        {
            throw new NatsProtocolException("The request has no headers; it was not sent by a Plexus client.");
        }

        var bytes = block.IsSingleSegment ? block.FirstSpan : block.ToArray();
        var reader = new NatsHeaderReader(bytes);
        string? requestId = null;
        DateTimeOffset? deadline = null;
        long window = -1, keepAlive = -1, length = -1;
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
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
            else if (!name.StartsWith("Plexus-"u8) && !name.StartsWith("Nats-"u8))
            {
                headers[Encoding.UTF8.GetString(name)] = Encoding.UTF8.GetString(value);
            }
        }

        if (requestId is null || window < 1 || keepAlive < 1 || length < 0)
        {
            throw new NatsProtocolException("The request lacks Plexus-Request-Id, Plexus-Window, Plexus-Keepalive or Plexus-Length.");
        }

        return new RequestHead(requestId, deadline, window, keepAlive, length, headers);
    }

    private static long Number(ReadOnlySpan<byte> value, string name) =>
        NatsWire.TryNumber(value, out var number) && number >= 0
            ? number
            : throw new NatsProtocolException($"The header {name} is not a non-negative whole number.");
}
