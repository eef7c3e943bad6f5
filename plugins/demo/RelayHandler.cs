namespace Plexus.Service.Demo;

/// <summary>
/// <c>demo/echo/relay</c>: calls the endpoint named in the <c>relay-to</c> header with this request's payload and
/// streams its responses back: one service calling another through the request plane.
/// </summary>
[PlexusEndpoint("demo/echo/relay")]
internal sealed class RelayHandler(IPlexusClient client, TimeProvider time) : IEndpointHandler
{
    public const string TargetHeader = "relay-to";

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        if (!request.Headers.TryGetValue(TargetHeader, out var target) || !EndpointAddress.TryParse(target, out var endpoint))
        {
            throw new ArgumentException($"Header {TargetHeader} must name the endpoint to relay to, as namespace/component/endpoint; it is '{target}'.");
        }

        // The relayed call may take only what is left of this request's own deadline.
        TimeSpan? timeout = null;
        if (request.Deadline is DateTimeOffset deadline)
        {
            timeout = deadline - time.GetUtcNow();
            if (timeout <= TimeSpan.Zero)
            {
                throw new PlexusException(PlexusErrorCode.Timeout, $"The request's deadline passed before it could be relayed to {endpoint}.");
            }
        }

        await using var stream = await client.CallAsync(endpoint, request.Payload, new CallOptions(Timeout: timeout), request.RequestAborted);
        while (await stream.MoveNextAsync(request.RequestAborted))
        {
            foreach (var segment in stream.Current)
            {
                System.Buffers.BuffersExtensions.Write(responses, segment.Span);
            }

            responses.EndMessage();
            await responses.FlushAsync(request.RequestAborted);
        }
    }
}
