using System.Buffers;

namespace Plexus.Transport.Conformance;

/// <summary>Waits until the test calls <see cref="Release"/>, then echoes the payload as one message and returns.</summary>
internal sealed class GatedHandler : IEndpointHandler
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        Started.TrySetResult();
        await _gate.Task.WaitAsync(request.RequestAborted);
        responses.WriteMessage(request.Payload.IsSingleSegment ? request.Payload.FirstSpan : request.Payload.ToArray());
        await responses.FlushAsync(request.RequestAborted);
    }
}
