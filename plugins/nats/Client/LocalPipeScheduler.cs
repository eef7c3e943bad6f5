using System.IO.Pipelines;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// Runs pipe continuations on the thread pool, queued to the current worker's own queue. A publisher on a pool
/// thread wakes the write loop without waking another thread: the loop runs on the same thread once the publisher
/// yields, and picks up whatever else the publisher appended meanwhile (a response's data and end frames go out in
/// one write). An idle worker still steals it if the publisher keeps its thread busy.
/// </summary>
internal sealed class LocalPipeScheduler : PipeScheduler
{
    public static LocalPipeScheduler Instance { get; } = new();

    private LocalPipeScheduler()
    {
    }

    /// <inheritdoc />
    public override void Schedule(Action<object?> action, object? state) =>
        System.Threading.ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: true);
}
