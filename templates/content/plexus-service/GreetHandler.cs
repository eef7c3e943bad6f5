using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus;

namespace Acme.Greeter;

// Served at acme/greeter/hello by every node that loads the plugin (Plexus:Endpoints chooses, and may rename the
// namespace). The host creates it once, through its container: any host service can be a constructor parameter,
// IPlexusClient among them, to call other endpoints.
[PlexusEndpoint("acme/greeter/hello")]
internal sealed partial class GreetHandler(IOptions<GreeterOptions> options, ILogger<GreetHandler> logger) : IEndpointHandler
{
    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        string name = Encoding.UTF8.GetString(request.Payload);
        LogGreeting(name);
        // One response message; a handler may write any number, each ended by EndMessage and sent by FlushAsync.
        responses.Write(Encoding.UTF8.GetBytes($"{options.Value.Greeting}, {name}"));
        responses.EndMessage();
        await responses.FlushAsync(request.RequestAborted);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Greeting {Name}.")]
    private partial void LogGreeting(string name);
}
