[assembly: Plexus.PlexusPlugin("bad-service")]

namespace Plexus.Test.BadService;

/// <summary>Marked with an address of two segments: the plugin must be refused with one line naming the class.</summary>
[PlexusEndpoint("bad/address")]
internal sealed class BadHandler : IEndpointHandler
{
    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => ValueTask.CompletedTask;
}
