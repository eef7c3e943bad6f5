namespace Plexus;

/// <summary>
/// What a service implements for one endpoint: take one request and write any number of response messages.
/// Returning completes the stream; throwing ends it with a <see cref="PlexusErrorCode.HandlerError"/> carrying the
/// exception's message (a thrown <see cref="PlexusException"/> keeps its own code).
/// </summary>
public interface IEndpointHandler
{
    /// <summary>Handles one request.</summary>
    /// <param name="request">The request; <see cref="RequestContext.RequestAborted"/> fires when it is cancelled.</param>
    /// <param name="responses">Where the response messages go.</param>
    /// <returns>A task that completes when the handler is done.</returns>
    ValueTask HandleAsync(RequestContext request, IResponseWriter responses);
}
