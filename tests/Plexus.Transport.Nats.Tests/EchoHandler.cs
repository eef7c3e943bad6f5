namespace Plexus.Transport.Nats.Tests;

/// <summary>Answers with the request payload as one message.</summary>
internal sealed class EchoHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        foreach (var segment in request.Payload)
        {
            var span = responses.GetSpan(segment.Length);
            segment.Span.CopyTo(span);
            responses.Advance(segment.Length);
        }

        responses.EndMessage();
        return responses.FlushAsync(request.RequestAborted);
    }
}
