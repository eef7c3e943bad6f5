using System.Diagnostics;

namespace Plexus.Transport.Conformance;

/// <summary>
/// Writes one message ("ready"), then waits until its request is aborted, recording when
/// <see cref="RequestContext.RequestAborted"/> fired (a <see cref="Stopwatch"/> timestamp and the wall clock).
/// Only the first request's moments are recorded.
/// </summary>
internal sealed class BlockingHandler : IEndpointHandler
{
    public static ReadOnlyMemory<byte> Ready { get; } = "ready"u8.ToArray();

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<long> AbortedAt { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<DateTimeOffset> AbortedAtWallClock { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        // Deliberately not disposed when the handler returns. Cancellation runs callbacks newest first, so the
        // Task.Delay below is woken before this callback runs, and its continuation may run inline; disposing the
        // registration on the way out would then unregister this callback before its turn, and the moment be lost.
        _ = request.RequestAborted.Register(() =>
        {
            AbortedAt.TrySetResult(Stopwatch.GetTimestamp());
            AbortedAtWallClock.TrySetResult(DateTimeOffset.UtcNow);
        });
        await responses.WriteMessageAsync(Ready, request.RequestAborted);
        Started.TrySetResult();
        await Task.Delay(Timeout.Infinite, request.RequestAborted);
    }
}
