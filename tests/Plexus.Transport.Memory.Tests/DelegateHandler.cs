namespace Plexus.Transport.Memory.Tests;

/// <summary>A handler written inline in a test.</summary>
internal sealed class DelegateHandler(Func<RequestContext, IResponseWriter, ValueTask> handle) : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => handle(request, responses);
}
