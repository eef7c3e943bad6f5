using System.Buffers.Binary;

namespace Plexus.Bench;

/// <summary>
/// The stream endpoint: answers with 100,000 16-byte messages (a sequence number and padding), flushing after each
/// one, as a token-streaming service would: every message is handed to the transport as soon as it exists, and it
/// is the transport's job to coalesce them on the wire.
/// </summary>
internal sealed class BenchStreamHandler : IEndpointHandler
{
    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);
        var cancellationToken = request.RequestAborted;
        for (var i = 0; i < BenchSizes.StreamMessages; i++)
        {
            var span = responses.GetSpan(BenchSizes.StreamMessageBytes)[..BenchSizes.StreamMessageBytes];
            BinaryPrimitives.WriteInt64LittleEndian(span, i);
            span[sizeof(long)..].Clear();
            responses.Advance(BenchSizes.StreamMessageBytes);
            responses.EndMessage();
            await responses.FlushAsync(cancellationToken);
        }
    }
}
