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
        using var registration = request.RequestAborted.Register(() =>
        {
            AbortedAt.TrySetResult(Stopwatch.GetTimestamp());
            AbortedAtWallClock.TrySetResult(DateTimeOffset.UtcNow);
        });
        await responses.WriteMessageAsync(Ready, request.RequestAborted);
        Started.TrySetResult();
        await Task.Delay(Timeout.Infinite, request.RequestAborted);
    }
}
