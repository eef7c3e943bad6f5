using System.Buffers;

namespace Plexus.Transport.Conformance;

/// <summary>Records the first request it gets (see <see cref="CapturedRequest"/>) and answers with no messages.</summary>
internal sealed class CapturingHandler : IEndpointHandler
{
    public TaskCompletionSource<CapturedRequest> Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }

        Seen.TrySetResult(new CapturedRequest(
            request.Endpoint,
            request.RequestId,
            request.Payload.ToArray(),
            headers,
            request.Deadline,
            request.RequestAborted.IsCancellationRequested));
        return default;
    }
}
