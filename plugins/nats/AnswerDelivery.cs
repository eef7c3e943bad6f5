namespace Plexus.Transport.Nats;

/// <summary>
/// The callers woken by one <c>lasts</c> frame, woken in turn by one work item (never the read loop), each running
/// until it next waits, with the client's head gatherer corked: the requests they make meanwhile go as one
/// <c>heads</c> frame when the last has run, from that thread, instead of from a work item of their own. A caller
/// that blocks before it next waits delays the callers after it in its frame, never the connection.
/// </summary>
/// <param name="heads">The client's head gatherer.</param>
/// <param name="capacity">How many callers the frame may wake.</param>
internal sealed class AnswerDelivery(NatsHeadBatcher heads, int capacity) : IThreadPoolWorkItem
{
    private readonly List<NatsResponseStream> _streams = new(capacity);

    /// <summary>Adds a stream owed a wake.</summary>
    /// <param name="stream">The stream.</param>
    public void Add(NatsResponseStream stream) => _streams.Add(stream);

    /// <inheritdoc />
    public void Execute()
    {
        heads.Cork();
        try
        {
            foreach (var stream in _streams)
            {
                stream.WakeDeferred();
            }
        }
        finally
        {
            heads.Uncork();
        }
    }
}
