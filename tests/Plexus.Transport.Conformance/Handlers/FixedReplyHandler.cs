namespace Plexus.Transport.Conformance;

/// <summary>Answers every request with the same one message.</summary>
internal sealed class FixedReplyHandler(byte[] reply) : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) =>
        responses.WriteMessageAsync(reply, request.RequestAborted);
}
