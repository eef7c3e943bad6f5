namespace Plexus.Transport.Nats;

/// <summary>The requests of one <c>heads</c> frame, run on one work item.</summary>
internal sealed partial class NatsServer
{
    /// <summary>
    /// The complete requests of one <c>heads</c> frame, whose handlers one work item starts in turn, each running
    /// until its first wait, with the server's answer gatherer corked: the answers of handlers that end at once go as
    /// one <c>lasts</c> frame when the last has started, from that thread, instead of from a work item of their own.
    /// A handler that blocks before its first wait delays the requests after it in its frame, never the connection.
    /// </summary>
    private sealed class DispatchBatch(NatsServer server, int capacity) : IThreadPoolWorkItem
    {
        private readonly List<NatsExchange> _exchanges = new(capacity);

        /// <summary>Adds a claimed request, complete and ready to run.</summary>
        /// <param name="exchange">The request.</param>
        public void Add(NatsExchange exchange) => _exchanges.Add(exchange);

        /// <summary>Queues the work item, on this thread's queue as a lone request's would be, if it has requests.</summary>
        public void Queue()
        {
            if (_exchanges.Count > 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
            }
        }

        /// <inheritdoc />
        public void Execute()
        {
            var answers = server._answers;
            answers.Cork();
            try
            {
                foreach (var exchange in _exchanges)
                {
                    _ = server.RunAsync(exchange);
                }
            }
            finally
            {
                answers.Uncork();
            }
        }
    }
}
