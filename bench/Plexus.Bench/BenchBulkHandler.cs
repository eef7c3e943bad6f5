using System.Buffers.Binary;

namespace Plexus.Bench;

/// <summary>The bulk endpoint: acknowledges a payload with its length, 8 bytes little-endian.</summary>
internal sealed class BenchBulkHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);

        // The transport has delivered the payload into this process's memory by now; that delivery is what is measured.
        var span = responses.GetSpan(BenchSizes.BulkAckBytes);
        BinaryPrimitives.WriteInt64LittleEndian(span, request.Payload.Length);
        responses.Advance(BenchSizes.BulkAckBytes);
        responses.EndMessage();
        return responses.FlushAsync(request.RequestAborted);
    }
}
