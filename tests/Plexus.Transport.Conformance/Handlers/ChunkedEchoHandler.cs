using System.Buffers;

namespace Plexus.Transport.Conformance;

/// <summary>Writes the request payload back as a stream of messages of at most <c>chunkBytes</c> each.</summary>
internal sealed class ChunkedEchoHandler(int chunkBytes) : IEndpointHandler
{
    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        var remaining = request.Payload;
        while (!remaining.IsEmpty)
        {
            var n = (int)Math.Min(chunkBytes, remaining.Length);
            remaining.Slice(0, n).CopyTo(responses.GetSpan(n));
            responses.Advance(n);
            responses.EndMessage();
            await responses.FlushAsync(request.RequestAborted);
            remaining = remaining.Slice(n);
        }
    }
}
