namespace Plexus.Transport.Conformance;

/// <summary>Writes nothing and returns: a stream with no messages.</summary>
internal sealed class SilentHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => default;
}
