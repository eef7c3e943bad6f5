using System.Buffers;

namespace Plexus.Service.Demo;

/// <summary><c>demo/echo/echo</c>: answers with the request payload as one message.</summary>
[PlexusEndpoint("demo/echo/echo")]
internal sealed class EchoHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        foreach (var segment in request.Payload)
        {
            responses.Write(segment.Span);
        }

        responses.EndMessage();
        return responses.FlushAsync(request.RequestAborted);
    }
}
