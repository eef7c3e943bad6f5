namespace Plexus.Transport.Conformance;

/// <summary>
/// Keeps running whatever its <see cref="RequestContext.RequestAborted"/> says: it passes the token to nothing, notices
/// that it fired only through a callback, and then fails with a plain exception of its own (<see cref="Failure"/>), as a
/// handler that ignores cancellation and gives up late would. Only the first request's moments are recorded.
/// </summary>
internal sealed class OverrunningHandler : IEndpointHandler
{
    public const string Failure = "gave up after ignoring its token";

    // Bounds how long it runs on its own when its token never fires, so that a transport that loses the abort fails
    // the test instead of keeping a handler alive forever.
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(30);

    public TaskCompletionSource<DateTimeOffset> AbortedAtWallClock { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        try
        {
            var noticed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = request.RequestAborted.Register(() =>
            {
                AbortedAtWallClock.TrySetResult(DateTimeOffset.UtcNow);
                noticed.TrySetResult();
            });
            await noticed.Task.WaitAsync(GiveUpAfter, CancellationToken.None);
            throw new InvalidOperationException(Failure);
        }
        finally
        {
            Finished.TrySetResult();
        }
    }
}
