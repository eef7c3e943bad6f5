using System.Buffers;
using System.Globalization;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The server's one-frame answers (a unary call's <c>last</c>, an <c>error</c> before anything else), gathered per
/// client inbox (<c>_INBOX.&lt;id&gt;</c>) for clients that announced <c>Plexus-Packed: 2</c>, while other requests
/// are in flight. The first answer gathered queues one work item on the thread pool's global queue, which goes
/// around it twice; the work item publishes each
/// client's answers as one <c>lasts</c> frame to <c>_INBOX.&lt;id&gt;.lasts</c>, or a lone answer as the frame it
/// would have been. A frame that reaches <see cref="BatchedAnswers.MaxFrameBytes"/> goes at once. No timer.
/// </summary>
internal sealed class NatsAnswerBatcher : NatsGatherer<NatsAnswerBatcher.Gather>
{
    // Inboxes without answers gathered are forgotten once this many are known, so clients that come and go do not
    // make the table grow.
    private const int MaxInboxes = 1024;

    private readonly NatsLink _link;
    private readonly NatsHeaders _headers = new();
    private readonly Dictionary<string, Gather> _gathers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Gather>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    // The server's requests in flight: an answer is gathered only while others are, which may answer meanwhile.
    private int _inFlight;

    /// <summary>Creates the gatherer of a server's connection.</summary>
    /// <param name="link">The connection.</param>
    public NatsAnswerBatcher(NatsLink link)
    {
        _link = link;
        _lookup = _gathers.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>A request was admitted.</summary>
    public void Started() => Interlocked.Increment(ref _inFlight);

    /// <summary>A request is done with.</summary>
    public void Ended() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Takes a request's only frame, sequence 0, to send with other answers to the same client.</summary>
    /// <param name="replyTo">The request's reply subject, <c>_INBOX.&lt;id&gt;.&lt;n&gt;</c>.</param>
    /// <param name="kind"><see cref="BatchedAnswers.LastKind"/> or <see cref="BatchedAnswers.ErrorKind"/>.</param>
    /// <param name="code">The error code, or 0.</param>
    /// <param name="refused">Whether the error says the request was refused before any work.</param>
    /// <param name="payload">The payload, copied before this returns.</param>
    /// <returns>False when the answer is not for gathering (too large, or a reply subject not of that shape): the
    /// caller sends it as a frame of its own.</returns>
    public bool TryAdd(string replyTo, byte kind, int code, bool refused, ReadOnlySpan<byte> payload)
    {
        // Gathered while others are in flight, which may answer meanwhile, or while a heads frame's handlers run in
        // turn, whose answers go together when the last has run.
        if (payload.Length > BatchedAnswers.MaxAnswerBytes || (Volatile.Read(ref _inFlight) <= 1 && !IsCorkedHere))
        {
            return false;
        }

        var dot = replyTo.LastIndexOf('.');
        if (dot <= 0 || !ulong.TryParse(replyTo.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var needed = BatchedAnswers.EntryBytes + payload.Length;
        var schedule = false;
        lock (Gate)
        {
            if (!_lookup.TryGetValue(replyTo.AsSpan(0, dot), out var gather))
            {
                if (_gathers.Count >= MaxInboxes)
                {
                    ForgetIdleLocked();
                }

                gather = new Gather(replyTo[..dot]);
                _gathers.Add(gather.Inbox, gather);
            }

            if (gather.Entries.Length + needed > BatchedAnswers.MaxFrameBytes)
            {
                PublishLocked(gather);
            }

            BatchedAnswers.Write(gather.Entries.Reserve(needed, BatchedAnswers.MaxFrameBytes), number, kind, refused, code, payload);
            gather.Entries.Added(needed);
            if (gather.Entries.Count == 1)
            {
                gather.First = replyTo;
            }

            schedule = PendLocked(gather);
        }

        if (schedule)
        {
            Schedule();
        }

        return true;
    }

    // Under the lock: one client's answers as one frame; a lone answer as the frame it would have been alone.
    protected override void PublishLocked(Gather gather)
    {
        if (gather.Entries.Count == 0)
        {
            return;
        }

        var payload = gather.Entries.Contents;
        if (gather.Entries.Count == 1)
        {
            var (_, kind, refused, code, length) = BatchedAnswers.Read(payload, 0);
            var headers = kind == BatchedAnswers.ErrorKind
                ? NatsWire.Headers(_headers, NatsWire.Names.Error, NatsWire.Names.Seq, 0, NatsWire.Names.ErrorCode, code, refused, batch: true)
                : NatsWire.Headers(_headers, NatsWire.Names.Last, NatsWire.Names.Seq, 0, batch: true);
            NatsLink.Observe(_link.PublishAsync(gather.First!, null, headers, payload.Slice(BatchedAnswers.EntryBytes, length)));
        }
        else
        {
            NatsLink.Observe(_link.PublishAsync(gather.Subject, null, NatsWire.Headers(_headers, NatsWire.Names.Lasts, NatsWire.Names.Count, gather.Entries.Count, batch: true), payload));
        }

        // Appended to the connection (a copy): the array can go back.
        gather.Entries.Clear();
        gather.First = null;
    }

    private void ForgetIdleLocked()
    {
        foreach (var (inbox, gather) in _gathers)
        {
            if (gather.Entries.Count == 0 && !gather.Pending)
            {
                _gathers.Remove(inbox);
            }
        }
    }

    // One client's answers being gathered.
    internal sealed class Gather(string inbox) : NatsGather
    {
        public string Inbox { get; } = inbox;

        public string Subject { get; } = inbox + "." + NatsWire.Names.Lasts;

        public string? First { get; set; }
    }
}
