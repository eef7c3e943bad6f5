using System.Buffers;

namespace Plexus.Host.Demo;

/// <summary><c>demo/echo/echo</c>: answers with the request payload as one message.</summary>
internal sealed class EchoHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        foreach (var segment in request.Payload)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                var destination = responses.GetSpan(1);
                var n = Math.Min(destination.Length, span.Length);
                span[..n].CopyTo(destination);
                responses.Advance(n);
                span = span[n..];
            }
        }

        responses.EndMessage();
        return responses.FlushAsync(request.RequestAborted);
    }
}
