using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Plexus.Test.GreeterService;

/// <summary>
/// <c>greeter/hello/greet</c> and <c>greeter/hello/wave</c> (one class, one instance, two endpoints): sends
/// "&lt;Greeting&gt;, &lt;payload&gt;" to the configured target endpoint through the request plane and streams the
/// target's answer back unchanged, so a caller sees what the target made of it.
/// </summary>
[PlexusEndpoint("greeter/hello/greet")]
[PlexusEndpoint("greeter/hello/wave")]
internal sealed partial class GreetHandler : IEndpointHandler
{
    private readonly IPlexusClient _client;
    private readonly GreeterOptions _options;
    private readonly EndpointAddress _target;
    private readonly ILogger<GreetHandler> _logger;

    public GreetHandler(IPlexusClient client, IOptions<GreeterOptions> options, ILogger<GreetHandler> logger)
    {
        _client = client;
        _options = options.Value;
        _logger = logger;

        // Thrown here, so that a bad setting fails the plugin when the node starts rather than on the first request.
        _target = string.IsNullOrEmpty(_options.Greeting)
            ? throw new InvalidOperationException($"{GreeterPlugin.SectionName}:Greeting is empty.")
            : EndpointAddress.Parse(_options.Target);
    }

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        var text = $"{_options.Greeting}, {Encoding.UTF8.GetString(request.Payload)}";
        LogGreeting(request.Endpoint, _target);
        await using var answer = await _client.CallAsync(_target, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text)), cancellationToken: request.RequestAborted);
        while (await answer.MoveNextAsync(request.RequestAborted))
        {
            foreach (var segment in answer.Current)
            {
                responses.Write(segment.Span);
            }

            responses.EndMessage();
            await responses.FlushAsync(request.RequestAborted);
        }
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Greeter at {Endpoint} calls {Target}.")]
    private partial void LogGreeting(EndpointAddress endpoint, EndpointAddress target);
}
