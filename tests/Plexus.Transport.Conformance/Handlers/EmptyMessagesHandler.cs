namespace Plexus.Transport.Conformance;

/// <summary>Writes three messages: empty, one byte 0x2A, empty.</summary>
internal sealed class EmptyMessagesHandler : IEndpointHandler
{
    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        responses.EndMessage();
        await responses.FlushAsync(request.RequestAborted);
        responses.WriteMessage([0x2A]);
        responses.EndMessage();
        await responses.FlushAsync(request.RequestAborted);
    }
}
