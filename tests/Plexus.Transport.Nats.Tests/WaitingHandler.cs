namespace Plexus.Transport.Nats.Tests;

/// <summary>Writes "ready", then waits until the request is aborted.</summary>
internal sealed class WaitingHandler : IEndpointHandler
{
    public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        _ = request.RequestAborted.Register(() => Aborted.TrySetResult());
        await responses.WriteMessageAsync("ready"u8.ToArray(), request.RequestAborted);
        await Task.Delay(Timeout.Infinite, request.RequestAborted);
    }
}
