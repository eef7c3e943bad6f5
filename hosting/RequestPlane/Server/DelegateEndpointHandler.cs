namespace Plexus.Hosting.RequestPlane.Server;

/// <summary>An endpoint served by a delegate (<c>MapPlexusEndpoint</c>).</summary>
internal sealed class DelegateEndpointHandler(Func<RequestContext, IResponseWriter, ValueTask> handle) : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => handle(request, responses);
}
