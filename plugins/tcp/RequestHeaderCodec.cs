using System.Buffers;
using System.Buffers.Binary;
using System.Text;


namespace Plexus.Transport.Tcp;

/// <summary>Encodes and decodes the variable part of a REQUEST frame header (docs/protocol/tcp.md, "REQUEST fields").</summary>
internal static class RequestHeaderCodec
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    /// <summary>The encoded length of a request's header.</summary>
    /// <exception cref="PlexusException">A field is longer than its length prefix can describe (PayloadTooLarge).</exception>
    public static int Measure(OutgoingRequest request)
    {
        long length = Wire.RequestFixedLength
            + 3 + request.Endpoint.Namespace.Length + request.Endpoint.Component.Length + request.Endpoint.Endpoint.Length
            + 2 + Utf8Length(request.RequestId, "request id")
            + 2;
        if (request.Headers.Count > ushort.MaxValue)
        {
            throw new PlexusException(PlexusErrorCode.PayloadTooLarge, $"The request has {request.Headers.Count} headers; at most {ushort.MaxValue} can be sent.");
        }

        foreach (var (name, value) in request.Headers)
        {
            length += 4 + Utf8Length(name, "header name") + Utf8Length(value ?? string.Empty, $"value of header '{name}'");
        }

        return length > int.MaxValue ? int.MaxValue : (int)length;
    }

    /// <summary>Writes the whole REQUEST frame header into <paramref name="destination"/>, which is <see cref="Measure"/> long.</summary>
    public static void Encode(Span<byte> destination, uint streamId, byte flags, OutgoingRequest request, long payloadLength)
    {
        destination[0] = (byte)FrameType.Request;
        destination[1] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[2..], streamId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[6..], request.Instance.Value);
        BinaryPrimitives.WriteInt64LittleEndian(destination[14..], request.Deadline is { } deadline ? deadline.UtcTicks : 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[22..], payloadLength);
        var at = Wire.RequestFixedLength;
        at += WriteAscii(destination[at..], request.Endpoint.Namespace);
        at += WriteAscii(destination[at..], request.Endpoint.Component);
        at += WriteAscii(destination[at..], request.Endpoint.Endpoint);
        at += WriteUtf8(destination[at..], request.RequestId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], (ushort)request.Headers.Count);
        at += 2;
        foreach (var (name, value) in request.Headers)
        {
            at += WriteUtf8(destination[at..], name);
            at += WriteUtf8(destination[at..], value ?? string.Empty);
        }
    }

    /// <summary>Reads a REQUEST frame header.</summary>
    /// <exception cref="PlexusException">The header is malformed (ProtocolError).</exception>
    public static DecodedRequest Decode(in ReadOnlySequence<byte> header, EndpointCache endpoints)
    {
        var reader = new SequenceReader<byte>(header);
        reader.Advance(Wire.CommonHeaderLength);
        if (!reader.TryReadLittleEndian(out long instance) || !reader.TryReadLittleEndian(out long deadlineTicks) || !reader.TryReadLittleEndian(out long payloadLength))
        {
            throw Malformed("it ends inside its fixed fields");
        }

        if (payloadLength < 0)
        {
            throw Malformed($"it declares a payload of {payloadLength} bytes");
        }

        DateTimeOffset? deadline = null;
        if (deadlineTicks != 0)
        {
            if (deadlineTicks < DateTimeOffset.MinValue.UtcTicks || deadlineTicks > DateTimeOffset.MaxValue.UtcTicks)
            {
                throw Malformed($"its deadline {deadlineTicks} is not a valid time");
            }

            deadline = new DateTimeOffset(deadlineTicks, TimeSpan.Zero);
        }

        var endpointStart = reader.Position;
        for (var i = 0; i < 3; i++)
        {
            if (!reader.TryRead(out var segmentLength) || reader.Remaining < segmentLength)
            {
                throw Malformed("it ends inside its endpoint");
            }

            reader.Advance(segmentLength);
        }

        var endpoint = endpoints.Get(header.Slice(endpointStart, reader.Position));
        var requestId = ReadUtf8(ref reader, "request id");
        if (!reader.TryReadLittleEndian(out short rawCount))
        {
            throw Malformed("it ends before its header count");
        }

        var count = (ushort)rawCount;
        var headers = NoHeaders;
        if (count > 0)
        {
            var map = new Dictionary<string, string>(count, StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var name = ReadUtf8(ref reader, "header name");
                map[name] = ReadUtf8(ref reader, "header value");
            }

            headers = map;
        }

        return new DecodedRequest(endpoint, new InstanceId((ulong)instance), deadline, payloadLength, requestId, headers);
    }

    /// <summary>Decodes the three length-prefixed endpoint segments.</summary>
    /// <exception cref="PlexusException">They are not a valid endpoint address (ProtocolError).</exception>
    public static EndpointAddress DecodeEndpoint(ReadOnlySpan<byte> raw)
    {
        Span<string> parts = ["", "", ""];
        var at = 0;
        for (var i = 0; i < 3; i++)
        {
            var length = raw[at];
            parts[i] = Encoding.ASCII.GetString(raw.Slice(at + 1, length));
            at += 1 + length;
        }

        try
        {
            return new EndpointAddress(parts[0], parts[1], parts[2]);
        }
        catch (ArgumentException invalid)
        {
            throw Malformed($"its endpoint is not valid: {invalid.Message}");
        }
    }

    private static int Utf8Length(string text, string what)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        if (length > ushort.MaxValue)
        {
            throw new PlexusException(PlexusErrorCode.PayloadTooLarge, $"The {what} is {length} UTF-8 bytes; at most {ushort.MaxValue} can be sent.");
        }

        return length;
    }

    private static int WriteAscii(Span<byte> destination, string text)
    {
        destination[0] = (byte)text.Length;
        return 1 + Encoding.ASCII.GetBytes(text, destination[1..]);
    }

    private static int WriteUtf8(Span<byte> destination, string text)
    {
        var length = Encoding.UTF8.GetBytes(text, destination[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)length);
        return 2 + length;
    }

    private static string ReadUtf8(ref SequenceReader<byte> reader, string what)
    {
        if (!reader.TryReadLittleEndian(out short rawLength))
        {
            throw Malformed($"it ends before the length of its {what}");
        }

        var length = (ushort)rawLength;
        if (reader.Remaining < length)
        {
            throw Malformed($"it ends inside its {what}");
        }

        var bytes = reader.UnreadSequence.Slice(0, length);
        reader.Advance(length);
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"its {what} is not valid UTF-8");
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static PlexusException Malformed(string why) => PlexusException.Protocol($"A REQUEST frame header is malformed: {why}.");
}
