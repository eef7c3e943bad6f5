using System.Buffers;

namespace Plexus.Test.GreeterService;

/// <summary>
/// <c>greeter/echo/echo</c>: answers with its payload. It differs from the demo's <c>demo/echo/echo</c> only by its
/// namespace, so a node that renames every plugin endpoint into one namespace would serve both at one address.
/// </summary>
[PlexusEndpoint("greeter/echo/echo")]
internal sealed class EchoBackHandler : IEndpointHandler
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
