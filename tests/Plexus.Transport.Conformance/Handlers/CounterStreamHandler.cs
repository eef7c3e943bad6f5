using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Conformance;

/// <summary>
/// Writes as many messages as the 4-byte little-endian payload says. Message <c>i</c> is <c>i</c> as 4 little-endian
/// bytes followed by <c>i % 16</c> bytes of value <c>(byte)i</c>, so order, loss and length are all checkable.
/// </summary>
internal sealed class CounterStreamHandler : IEndpointHandler
{
    public static int MessageLength(int sequence) => 4 + (sequence % 16);

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        Span<byte> countBytes = stackalloc byte[4];
        request.Payload.CopyTo(countBytes);
        var count = BinaryPrimitives.ReadInt32LittleEndian(countBytes);
        for (var i = 0; i < count; i++)
        {
            var length = MessageLength(i);
            var span = responses.GetSpan(length);
            BinaryPrimitives.WriteInt32LittleEndian(span, i);
            span.Slice(4, length - 4).Fill((byte)i);
            responses.Advance(length);
            responses.EndMessage();

            // Flush in uneven batches, so both one-message and many-message flushes are exercised.
            if (i % 7 == 0)
            {
                await responses.FlushAsync(request.RequestAborted);
            }
        }
    }
}
