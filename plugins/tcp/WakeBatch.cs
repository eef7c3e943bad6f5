namespace Plexus.Transport.Tcp;

/// <summary>
/// The callers one read gave messages to, woken in turn on one work item, each running on it until it next waits. A
/// caller that blocks its thread delays the callers after it in its read, never the connection.
/// </summary>
/// <param name="streams">The streams whose callers wait.</param>
internal sealed class WakeBatch(TcpResponseStream[] streams) : IThreadPoolWorkItem
{
    /// <inheritdoc />
    public void Execute()
    {
        foreach (var stream in streams)
        {
            stream.WakeInline();
        }
    }
}
