using System.Buffers.Binary;
using System.Text;

namespace Plexus.Transport.Streams;

// The HEAD frame's body: instance (u64), deadline (i64 Unix milliseconds, i64.MinValue for none), payload length
// (i64), then the endpoint, the request id and the header count (u16) with each header's name and value, every string
// as [length: u16][UTF-8]. All integers big-endian.
internal readonly record struct StreamRequestHead(
    EndpointAddress Endpoint,
    InstanceId Instance,
    string RequestId,
    DateTimeOffset? Deadline,
    IReadOnlyDictionary<string, string> Headers,
    long PayloadLength)
{
    private const long NoDeadline = long.MinValue;
    private const int FixedBytes = 8 + 8 + 8 + 2 + 2 + 2;

    public static int Measure(OutgoingRequest request)
    {
        int size = 8 + 8 + 8 + 2 + Utf8(request.Endpoint.ToString()) + Utf8(request.RequestId);
        foreach (var (name, value) in request.Headers)
        {
            size += Utf8(name) + Utf8(value);
        }

        return size;
    }

    public static void Write(Span<byte> destination, OutgoingRequest request)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, request.Instance.Value);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], request.Deadline?.ToUnixTimeMilliseconds() ?? NoDeadline);
        BinaryPrimitives.WriteInt64BigEndian(destination[16..], request.Payload.Length);
        int at = 24;
        at += WriteString(destination[at..], request.Endpoint.ToString());
        at += WriteString(destination[at..], request.RequestId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)request.Headers.Count);
        at += 2;
        foreach (var (name, value) in request.Headers)
        {
            at += WriteString(destination[at..], name);
            at += WriteString(destination[at..], value);
        }
    }

    /// <summary>Reads a HEAD body; a malformed one is a <see cref="PlexusErrorCode.ProtocolError"/> naming the field.</summary>
    public static StreamRequestHead Read(ReadOnlySpan<byte> body)
    {
        if (body.Length < FixedBytes)
        {
            throw Malformed($"it is {body.Length} bytes, shorter than the {FixedBytes} of its fixed fields");
        }

        var instance = new InstanceId(BinaryPrimitives.ReadUInt64BigEndian(body));
        long deadline = BinaryPrimitives.ReadInt64BigEndian(body[8..]);
        long length = BinaryPrimitives.ReadInt64BigEndian(body[16..]);
        if (length < 0)
        {
            throw Malformed($"its payload length is {length}");
        }

        int at = 24;
        string endpointText = ReadString(body, ref at, "endpoint");
        if (!EndpointAddress.TryParse(endpointText, out var endpoint))
        {
            throw Malformed($"its endpoint '{endpointText}' is not namespace/component/endpoint");
        }

        string requestId = ReadString(body, ref at, "request id");
        int count = ReadU16(body, ref at, "header count");
        var headers = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = ReadString(body, ref at, "header name");
            headers[name] = ReadString(body, ref at, $"value of header '{name}'");
        }

        if (at != body.Length)
        {
            throw Malformed($"{body.Length - at} bytes follow its last header");
        }

        DateTimeOffset? due = deadline == NoDeadline ? null : DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(deadline, -62135596800000, 253402300799999));
        return new StreamRequestHead(endpoint, instance, requestId, due, headers, length);
    }

    private static int Utf8(string text)
    {
        int bytes = Encoding.UTF8.GetByteCount(text);
        return bytes <= ushort.MaxValue
            ? 2 + bytes
            : throw new PlexusException(PlexusErrorCode.ProtocolError, $"A request's endpoint, id, header name or value is {bytes} bytes of UTF-8, over the stream protocol's {ushort.MaxValue}; shorten it.");
    }

    private static int WriteString(Span<byte> destination, string text)
    {
        int bytes = Encoding.UTF8.GetBytes(text, destination[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)bytes);
        return 2 + bytes;
    }

    private static int ReadU16(ReadOnlySpan<byte> body, ref int at, string what)
    {
        if (body.Length - at < 2)
        {
            throw Malformed($"it ends before its {what}");
        }

        int count = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
        at += 2;
        return count;
    }

    private static string ReadString(ReadOnlySpan<byte> body, ref int at, string what)
    {
        int length = ReadU16(body, ref at, $"{what}'s length");
        if (body.Length - at < length)
        {
            throw Malformed($"its {what} says {length} bytes but {body.Length - at} remain");
        }

        string text = Encoding.UTF8.GetString(body.Slice(at, length));
        at += length;
        return text;
    }

    private static PlexusException Malformed(string what) =>
        PlexusException.Protocol($"The request's HEAD frame is malformed: {what}. The client does not speak the Plexus stream protocol version 1 (docs/protocol/stream.md).");
}
