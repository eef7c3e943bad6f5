namespace Plexus.Abstractions.Tests.Toys;

/// <summary>A handler whose behaviour a test supplies inline.</summary>
internal sealed class DelegateHandler : IEndpointHandler
{
    private readonly Func<RequestContext, IResponseWriter, ValueTask> _handle;

    public DelegateHandler(Func<RequestContext, IResponseWriter, ValueTask> handle)
    {
        _handle = handle;
    }

    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => _handle(request, responses);
}
