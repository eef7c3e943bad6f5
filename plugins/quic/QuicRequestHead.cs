using System.Buffers;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// The REQUEST frame header (docs/protocol/quic.md, "A request stream"): the TCP protocol's REQUEST header without its
/// stream id, since a QUIC stream is the request. The shared <see cref="RequestHeaderCodec"/> does the work; this
/// adapts its 6-byte common part (type, flags, stream id) to QUIC's 2 bytes (type, flags).
/// </summary>
internal static class QuicRequestHead
{
    // What the TCP common part has that QUIC's lacks: the stream id.
    private const int StreamIdLength = Wire.CommonHeaderLength - QuicWire.CommonHeaderLength;

    /// <summary>The encoded length of a request's REQUEST header.</summary>
    /// <exception cref="PlexusException">A field is longer than its length prefix can describe (PayloadTooLarge).</exception>
    public static int Measure(OutgoingRequest request) => RequestHeaderCodec.Measure(request) - StreamIdLength;

    /// <summary>
    /// Writes the REQUEST header into <paramref name="destination"/>, which must be <see cref="Measure"/> + 4 bytes long
    /// (the TCP layout is written first, then moved over its stream id).
    /// </summary>
    /// <returns>The header's length.</returns>
    public static int Encode(Span<byte> destination, OutgoingRequest request, long payloadLength)
    {
        var tcpLength = destination.Length;
        RequestHeaderCodec.Encode(destination, streamId: 0, flags: 0, request, payloadLength);
        destination[Wire.CommonHeaderLength..tcpLength].CopyTo(destination[QuicWire.CommonHeaderLength..]);
        return tcpLength - StreamIdLength;
    }

    /// <summary>Reads a REQUEST header.</summary>
    /// <exception cref="PlexusException">The header is malformed (ProtocolError).</exception>
    public static DecodedRequest Decode(in ReadOnlySequence<byte> header, EndpointCache endpoints, ArrayPool<byte> pool)
    {
        var length = (int)header.Length;
        if (length < QuicWire.CommonHeaderLength)
        {
            throw PlexusException.Protocol($"A REQUEST frame header is {length} bytes; it needs at least {QuicWire.CommonHeaderLength}.");
        }

        // The header is small (at most MaxFrameHeaderBytes) and read once: a copy with room for the stream id is cheaper
        // than a second decoder.
        var buffer = pool.Rent(length + StreamIdLength);
        try
        {
            var span = buffer.AsSpan(0, length + StreamIdLength);
            header.Slice(0, QuicWire.CommonHeaderLength).CopyTo(span);
            span.Slice(QuicWire.CommonHeaderLength, StreamIdLength).Clear();
            header.Slice(QuicWire.CommonHeaderLength).CopyTo(span[Wire.CommonHeaderLength..]);
            return RequestHeaderCodec.Decode(new ReadOnlySequence<byte>(buffer, 0, span.Length), endpoints);
        }
        finally
        {
            pool.Return(buffer);
        }
    }
}
