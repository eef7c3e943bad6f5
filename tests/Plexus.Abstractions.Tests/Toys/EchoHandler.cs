namespace Plexus.Abstractions.Tests.Toys;

/// <summary>Answers each request with one message: its payload.</summary>
internal sealed class EchoHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);

        // Copy segment by segment into the writer: no intermediate array for the payload.
        foreach (var segment in request.Payload)
        {
            var source = segment.Span;
            while (!source.IsEmpty)
            {
                var target = responses.GetSpan(1);
                var n = Math.Min(source.Length, target.Length);
                source[..n].CopyTo(target);
                responses.Advance(n);
                source = source[n..];
            }
        }

        responses.EndMessage();
        return responses.FlushAsync(request.RequestAborted);
    }
}
