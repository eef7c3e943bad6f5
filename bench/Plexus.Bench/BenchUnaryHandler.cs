namespace Plexus.Bench;

/// <summary>The unary endpoint: answers any request with one 64-byte message.</summary>
internal sealed class BenchUnaryHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);
        if (request.Payload.Length != BenchSizes.UnaryRequestBytes)
        {
            throw new InvalidDataException($"The unary request has {request.Payload.Length} bytes; the bench sends {BenchSizes.UnaryRequestBytes}.");
        }

        responses.WriteMessage(BenchPayloads.UnaryResponse.Span);
        return responses.FlushAsync(request.RequestAborted);
    }
}
