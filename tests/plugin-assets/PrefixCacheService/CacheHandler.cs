using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;

[assembly: Plexus.PlexusPlugin("prefix-cache")]

namespace Plexus.Test.PrefixCacheService;

/// <summary>
/// Serves <c>kv/cache/generate</c>: remembers the request's blocks (header <c>plexus-prefix-blocks</c>), publishes every
/// block it holds under the <c>prefix-blocks</c> metadata key before answering, answers with its node id, and with
/// the header <c>hold</c> keeps the request open (in flight) until the caller lets it go.
/// </summary>
[PlexusEndpoint("kv/cache/generate")]
internal sealed class CacheHandler(IInstanceMetadataPublisher publisher, IConfiguration configuration) : IEndpointHandler
{
    private readonly SortedSet<ulong> _held = [];

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        if (request.Headers.TryGetValue("plexus-prefix-blocks", out var text))
        {
            string published;
            lock (_held)
            {
                foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    _held.Add(ulong.Parse(entry, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                }

                published = string.Join(',', _held.Select(b => b.ToString("x16", CultureInfo.InvariantCulture)));
            }

            await publisher.SetAsync(request.Endpoint, "prefix-blocks", published, request.RequestAborted);
        }

        responses.Write(Encoding.UTF8.GetBytes(configuration["Plexus:NodeId"] ?? "?"));
        responses.EndMessage();
        await responses.FlushAsync(request.RequestAborted);
        if (request.Headers.ContainsKey("hold"))
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(60), request.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The caller let go of the stream: the request ends here.
            }
        }
    }
}
