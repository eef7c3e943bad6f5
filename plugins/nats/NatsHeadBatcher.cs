using System.Buffers;
using System.Globalization;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The client's small request heads (whole payload in the head), gathered per request subject for servers that said
/// they read <c>heads</c> frames, while other requests of the client are in flight. The first head gathered queues
/// one work item on the thread pool's global queue, which goes around it twice; the work item publishes each subject's heads as one <c>heads</c> frame, reply-to
/// <c>_INBOX.&lt;id&gt;.b&lt;k&gt;</c> so that NATS answers "no responders" for the whole batch, or a lone head as
/// the head it would have been. A frame that reaches <see cref="BatchedHeads.MaxFrameBytes"/> goes at once. No timer.
/// </summary>
internal sealed class NatsHeadBatcher : NatsGatherer<NatsHeadBatcher.Gather>
{
    // Subjects without heads gathered are forgotten once this many are known.
    private const int MaxSubjects = 1024;

    private readonly NatsClient _client;
    private readonly NatsLink _link;
    private readonly string _inbox;
    private readonly NatsHeaders _headers = new();
    private readonly Dictionary<string, Gather> _gathers = new(StringComparer.Ordinal);
    private long _nextBatch;

    /// <summary>Creates the gatherer of a client.</summary>
    /// <param name="client">The client, which keeps the batches sent until their requests are answered.</param>
    /// <param name="link">The client's connection.</param>
    /// <param name="inbox">The client's inbox, <c>_INBOX.&lt;id&gt;</c>.</param>
    public NatsHeadBatcher(NatsClient client, NatsLink link, string inbox)
    {
        _client = client;
        _link = link;
        _inbox = inbox;
    }

    /// <summary>The heads frames sent so far.</summary>
    public long BatchesSent => Volatile.Read(ref _nextBatch);

    /// <summary>Takes a request's head to send with other heads to the same subject.</summary>
    /// <param name="subject">The request subject.</param>
    /// <param name="stream">The request's stream.</param>
    /// <param name="head">Its headers; kept until the head is published.</param>
    /// <param name="payload">Its whole payload, copied before this returns.</param>
    /// <returns>False when the head is too large to gather: the caller publishes it alone.</returns>
    public bool TryAdd(string subject, NatsResponseStream stream, NatsHeaders head, in ReadOnlySequence<byte> payload)
    {
        var block = BatchedHeads.BlockLength(head);
        var needed = BatchedHeads.EntryBytes + block + payload.Length;
        if (needed > BatchedHeads.MaxEntryBytes)
        {
            return false;
        }

        var schedule = false;
        lock (Gate)
        {
            if (!_gathers.TryGetValue(subject, out var gather))
            {
                if (_gathers.Count >= MaxSubjects)
                {
                    ForgetIdleLocked();
                }

                gather = new Gather(subject);
                _gathers.Add(subject, gather);
            }

            if (gather.Entries.Length + needed > BatchedHeads.MaxFrameBytes)
            {
                PublishLocked(gather);
            }

            BatchedHeads.Write(gather.Entries.Reserve((int)needed, BatchedHeads.MaxFrameBytes), (ulong)stream.Id, head, block, payload);
            gather.Entries.Added((int)needed);
            gather.Streams.Add(stream);
            if (gather.Streams.Count == 1)
            {
                gather.First = head;
            }

            schedule = PendLocked(gather);
        }

        if (schedule)
        {
            Schedule();
        }

        return true;
    }

    // Under the lock: one subject's heads as one frame; a lone head as the head it would have been alone.
    protected override void PublishLocked(Gather gather)
    {
        var streams = gather.Streams;
        if (streams.Count == 0)
        {
            return;
        }

        var payload = gather.Entries.Contents;
        if (streams.Count == 1)
        {
            var stream = streams[0];
            var (_, block, body) = BatchedHeads.Read(payload, 0);
            var sent = _link.PublishAsync(gather.Subject, stream.Inbox, gather.First, payload.Slice(BatchedHeads.EntryBytes + block, body));
            if (!sent.IsCompletedSuccessfully)
            {
                _ = FailIfNotSentAsync(sent, [stream]);
            }
        }
        else
        {
            var batch = new HeadBatch(++_nextBatch, [.. streams]);
            _client.Sending(batch);
            var replyTo = string.Create(CultureInfo.InvariantCulture, $"{_inbox}.b{batch.Id}");
            var sent = _link.PublishAsync(gather.Subject, replyTo, NatsWire.Headers(_headers, NatsWire.Names.Heads, NatsWire.Names.Count, streams.Count), payload);
            if (!sent.IsCompletedSuccessfully)
            {
                _ = FailIfNotSentAsync(sent, batch.Streams);
            }
        }

        // A request cancelled while its head waited sent its cancel ahead of the head; it goes again, behind it.
        foreach (var stream in streams)
        {
            stream.CancelAgainIfEnded();
        }

        // Appended to the connection (a copy): the array can go back.
        gather.Entries.Clear();
        gather.First = null;
        streams.Clear();
    }

    // A head that could not be published fails its request as a head SendAsync could not send: nothing was sent.
    private static async Task FailIfNotSentAsync(ValueTask sent, NatsResponseStream[] streams)
    {
        try
        {
            await sent.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or ObjectDisposedException or OperationCanceledException)
        {
            foreach (var stream in streams)
            {
                stream.Fail(new PlexusException(PlexusErrorCode.Unavailable, $"Could not send the request to {stream.Endpoint} over NATS: {exception.Message}", exception) { BeforeFirstByte = true }, cancelServer: false);
            }
        }
    }

    private void ForgetIdleLocked()
    {
        foreach (var (subject, gather) in _gathers)
        {
            if (gather.Streams.Count == 0 && !gather.Pending)
            {
                _gathers.Remove(subject);
            }
        }
    }

    // One subject's heads being gathered.
    internal sealed class Gather(string subject) : NatsGather
    {
        public string Subject { get; } = subject;

        public List<NatsResponseStream> Streams { get; } = [];

        public NatsHeaders? First { get; set; }
    }
}

/// <summary>The requests of one <c>heads</c> frame, kept until each is answered, for a "no responders" to the frame.</summary>
/// <param name="id">Its number, the <c>k</c> of its reply subject <c>_INBOX.&lt;id&gt;.b&lt;k&gt;</c>.</param>
/// <param name="streams">Its requests.</param>
internal sealed class HeadBatch(long id, NatsResponseStream[] streams)
{
    private int _pending = streams.Length;

    /// <summary>Its number.</summary>
    public long Id { get; } = id;

    /// <summary>Its requests.</summary>
    public NatsResponseStream[] Streams { get; } = streams;

    /// <summary>When it was sent.</summary>
    public long SentAt { get; } = Environment.TickCount64;

    /// <summary>One of its requests was answered or ended.</summary>
    /// <returns>True for the last one.</returns>
    public bool Leave() => Interlocked.Decrement(ref _pending) == 0;
}
