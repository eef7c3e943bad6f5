using System.Buffers;

namespace Plexus.Transport.Conformance;

/// <summary>Writes the request payload back as one message.</summary>
internal sealed class EchoHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        var length = checked((int)request.Payload.Length);
        request.Payload.CopyTo(responses.GetSpan(length));
        responses.Advance(length);
        responses.EndMessage();
        return responses.FlushAsync(request.RequestAborted);
    }
}
