using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace Plexus.Service.Demo;

/// <summary>
/// <c>demo/echo/generate</c>: streams a reply one token per message, the way a text-generation endpoint does.
/// The reply repeats the prompt's words and continues from a small vocabulary chosen by the prompt, so the same
/// prompt always streams the same tokens. The header <c>max-tokens</c> sets how many tokens follow the prompt.
/// </summary>
[PlexusEndpoint("demo/echo/generate")]
internal sealed class GenerateHandler : IEndpointHandler
{
    private static readonly string[] Vocabulary =
    [
        "the", "plane", "carries", "every", "request", "and", "streams", "tokens", "back", "to", "its", "caller",
        "over", "one", "shared", "connection", "while", "routers", "pick", "instances",
    ];

    private readonly DemoOptions _options;
    private readonly TimeProvider _time;

    public GenerateHandler(IOptions<DemoOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
    }

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        var prompt = Encoding.UTF8.GetString(request.Payload);
        var maxTokens = _options.MaxTokens;
        if (request.Headers.TryGetValue("max-tokens", out var text))
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out maxTokens) || maxTokens is < 0 or > 100_000)
            {
                throw new ArgumentException($"Header max-tokens is '{text}'; send a whole number from 0 to 100000.");
            }
        }

        var first = true;
        foreach (var word in prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            await EmitAsync(word, first, responses, request.RequestAborted);
            first = false;
        }

        var state = (uint)StableHash(prompt);
        for (var i = 0; i < maxTokens; i++)
        {
            state = (state * 1_103_515_245) + 12_345;
            await EmitAsync(Vocabulary[(state >> 16) % (uint)Vocabulary.Length], first, responses, request.RequestAborted);
            first = false;
        }
    }

    private async ValueTask EmitAsync(string word, bool first, IResponseWriter responses, CancellationToken cancellationToken)
    {
        if (_options.TokenDelay > TimeSpan.Zero)
        {
            await Task.Delay(_options.TokenDelay, _time, cancellationToken);
        }

        var token = first ? word : " " + word;
        var span = responses.GetSpan(Encoding.UTF8.GetMaxByteCount(token.Length));
        responses.Advance(Encoding.UTF8.GetBytes(token, span));
        responses.EndMessage();
        await responses.FlushAsync(cancellationToken);
    }

    private static int StableHash(string text)
    {
        // string.GetHashCode is randomised per process; the demo must stream the same tokens everywhere.
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }
}
