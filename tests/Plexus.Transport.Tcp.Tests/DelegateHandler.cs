namespace Plexus.Transport.Tcp.Tests;

internal sealed class DelegateHandler(Func<RequestContext, IResponseWriter, ValueTask> handle) : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => handle(request, responses);
}
