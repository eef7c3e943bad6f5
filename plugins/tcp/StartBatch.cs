namespace Plexus.Transport.Tcp;

/// <summary>
/// The requests one read completed, handed to the dispatcher in turn on one work item, each running until its handler
/// first waits. A handler that blocks before its first await delays the requests after it in its read, never the
/// connection.
/// </summary>
/// <param name="exchanges">The requests, in the order they completed.</param>
internal sealed class StartBatch(TcpExchange[] exchanges) : IThreadPoolWorkItem
{
    /// <inheritdoc />
    public void Execute()
    {
        foreach (var exchange in exchanges)
        {
            exchange.Execute();
        }
    }
}
