using System.Buffers;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The response frames of one request: credit, chunking, the held-back first message, small messages packed into
/// <c>msgs</c> frames, and numbering.
/// </summary>
internal sealed partial class NatsExchange : IThreadPoolWorkItem
{
    private readonly long _window;
    private long _seq;
    private long _sent;
    private long _credit;
    private TaskCompletionSource<bool>? _creditWaiter;
    private long _wanted;
    private volatile bool _responded;

    // One whole message the handler flushed before its first await, held back so that a handler that ends right
    // after it (a unary call) answers with one `last` frame instead of `data` and `end`: one NATS message less.
    private volatile bool _deferAllowed = true;
    private byte[]? _deferred;
    private int _deferredLength;
    private ArrayPool<byte>? _deferredPool;

    // Small messages gathered for one `msgs` frame (requesters that announced Plexus-Packed only): each a u32 length
    // and its bytes, in a pooled array rented for the frame and returned once it is published. The first message
    // queues one work item that publishes whatever has gathered when it runs; a full frame goes at once.
    private readonly bool _packs;
    private GatherBuffer _batch = new(1024);
    private bool _batchScheduled;

    /// <summary>Whether a response message was handed over (sent, or held back to be sent); from then on a failure
    /// is no longer safe to retry elsewhere.</summary>
    public bool HasResponded => _responded;

    /// <summary>Raises the credit to <paramref name="credit"/> (cumulative) and wakes a sender waiting for it.</summary>
    /// <param name="credit">The requester's consumed total.</param>
    public void Grant(long credit)
    {
        Touch();
        TaskCompletionSource<bool>? wake = null;
        lock (_gate)
        {
            if (credit > _credit)
            {
                _credit = credit;
            }

            if (_creditWaiter is not null && Fits(_wanted))
            {
                _sent += _wanted;
                wake = _creditWaiter;
                _creditWaiter = null;
            }
        }

        wake?.TrySetResult(true);
    }

    /// <summary>Sends one response message, chunked when it does not fit one NATS message, each frame within credit.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">The token the handler gave FlushAsync.</param>
    /// <returns>A task that completes when every frame is appended to the connection.</returns>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        _deferAllowed = false;
        if (Plain)
        {
            await ReplyPlainAsync(message).ConfigureAwait(false);
            return;
        }

        var maxChunk = MaxChunk();
        if (message.Length <= maxChunk)
        {
            await SendFrameAsync(message, chunked: false, total: message.Length, cancellationToken).ConfigureAwait(false);
            return;
        }

        var offset = 0;
        while (offset < message.Length)
        {
            var chunk = Math.Min(maxChunk, message.Length - offset);
            await SendFrameAsync(message.Slice(offset, chunk), chunked: true, total: offset == 0 ? message.Length : -1, cancellationToken).ConfigureAwait(false);
            offset += chunk;
        }
    }

    /// <summary>
    /// Takes one small flushed message into the <c>msgs</c> frame being gathered, within credit: it goes out when the
    /// work item queued by the frame's first message runs (usually once the handler yields its thread), with the
    /// frame when it is full, ahead of any other frame of the request, or with the end of the stream.
    /// </summary>
    /// <param name="message">The message; copied before this returns.</param>
    /// <param name="sent">A full frame's publish, for the flusher to wait for (room in the connection's outbox); else completed.</param>
    /// <returns>False when the message is not for packing (too large, a requester that does not read packed frames,
    /// the request ended, or no credit for it: then what had gathered was published, and <see cref="SendAsync"/> waits
    /// for credit as for any message).</returns>
    public bool TryPack(ReadOnlySpan<byte> message, out ValueTask sent)
    {
        sent = default;
        if (!_packs)
        {
            return false;
        }

        _deferAllowed = false;
        var bound = PackBound();
        var packable = Math.Min(PackedMessages.MaxPackedBytes, bound);
        var needed = message.Length + PackedMessages.PrefixBytes;
        if (needed > packable)
        {
            return false;
        }

        var cost = message.Length + NatsWire.FrameCost;
        var schedule = false;
        lock (_gate)
        {
            if (_ended)
            {
                return false;
            }

            if (!Fits(cost))
            {
                // SendAsync publishes what has gathered, so that the requester can read it and grant more, then waits.
                return false;
            }

            _sent += cost;
            _responded = true;
            if (_deferred is { } held && _deferredLength + PackedMessages.PrefixBytes <= packable)
            {
                // The held-back first message leads the frame instead of going alone.
                AppendLocked(held.AsSpan(0, _deferredLength), bound);
                ReturnDeferredLocked();
            }
            else
            {
                PublishDeferredLocked(NatsWire.Names.Data);
            }

            if (_batch.Length + needed > bound)
            {
                sent = PublishBatchLocked(last: false);
            }

            AppendLocked(message, bound);
            if (!_batchScheduled)
            {
                _batchScheduled = true;
                schedule = true;
            }
        }

        if (schedule)
        {
            // The handler's own thread takes it when the handler yields; an idle thread may take it sooner.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }

        return true;
    }

    /// <summary>The work item a frame's first packed message queued: publishes what has gathered since.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        lock (_gate)
        {
            _batchScheduled = false;
            if (!_ended)
            {
                NatsLink.Observe(PublishBatchLocked(last: false));
            }
        }
    }

    /// <summary>
    /// Takes a flushed message to send later, with the end of the stream when the handler ends before its first
    /// await (<see cref="EndDeferral"/> sends it otherwise). Only the first message of a request, only when it fits
    /// one frame, the credit and the outbox right now.
    /// </summary>
    /// <param name="buffer">The message's rented array (null when empty); the exchange returns it to <paramref name="pool"/>.</param>
    /// <param name="length">The message's length.</param>
    /// <param name="pool">Where the array goes back.</param>
    /// <returns>True when the exchange took the message.</returns>
    public bool TryDefer(byte[]? buffer, int length, ArrayPool<byte> pool)
    {
        if (!_deferAllowed || Plain)
        {
            return false;
        }

        var cost = length + NatsWire.FrameCost;
        if (length > MaxChunk())
        {
            _deferAllowed = false;
            return false;
        }

        lock (_gate)
        {
            if (!_deferAllowed || _ended || !Fits(cost))
            {
                _deferAllowed = false;
                return false;
            }

            _deferAllowed = false;
            _responded = true;
            _sent += cost;
            _deferred = buffer ?? [];
            _deferredLength = length;
            _deferredPool = pool;
            return true;
        }
    }

    /// <summary>The handler awaits something: a held-back message goes out now, and nothing more is held back.</summary>
    public void EndDeferral()
    {
        _deferAllowed = false;
        lock (_gate)
        {
            if (!_ended)
            {
                PublishDeferredLocked(NatsWire.Names.Data);
            }
        }
    }

    private bool Fits(long cost) => _sent <= _credit || _sent + cost <= _credit + _window;

    private async ValueTask SendFrameAsync(ReadOnlyMemory<byte> bytes, bool chunked, int total, CancellationToken cancellationToken)
    {
        // Credit first: this is where a slow requester stops a fast handler.
        await TakeCreditAsync(bytes.Length + NatsWire.FrameCost, cancellationToken).ConfigureAwait(false);

        ValueTask sent;
        lock (_gate)
        {
            if (_ended)
            {
                throw ErrorForHandler();
            }

            PublishHeldLocked();
            var payload = new ReadOnlySequence<byte>(bytes);
            _responded = true;

            // Without the handler's token: a numbered frame abandoned in the outbox would be a gap to the requester.
            sent = !chunked
                ? PublishLocked(NatsWire.Names.Data, payload: payload)
                : PublishLocked(NatsWire.Names.Part, total >= 0 ? NatsWire.Names.Length : null, total, payload);
        }

        // Then room in the connection's outbox, so one request's burst cannot fill the process's memory. Numbered and
        // handed to the client under the lock, so frames keep their order; waited for outside it.
        try
        {
            await sent.ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The response could not be sent: {exception.Message}", exception);
        }
    }

    private async ValueTask TakeCreditAsync(long cost, CancellationToken cancellationToken)
    {
        Task<bool> wait;
        lock (_gate)
        {
            if (_ended)
            {
                throw ErrorForHandler();
            }

            if (Fits(cost))
            {
                _sent += cost;
                return;
            }

            // What has gathered goes before the wait: the requester grants credit only for what it has read.
            PublishHeldLocked();
            _creditWaiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _wanted = cost;
            wait = _creditWaiter.Task;
        }

        bool granted;
        try
        {
            granted = await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_creditWaiter?.Task, wait))
                {
                    _creditWaiter = null;
                }
                else if (wait.IsCompletedSuccessfully && wait.Result)
                {
                    _sent -= cost;
                }
            }

            throw;
        }

        if (!granted)
        {
            lock (_gate)
            {
                throw ErrorForHandler();
            }
        }
    }

    // A frame costs at most a quarter of the window: the requester grants credit in quarter-window steps, so a
    // sender whose frames were as large as the window could wait for a grant that is never due.
    private int MaxChunk() => (int)Math.Min(Math.Min(int.MaxValue, _link.MaxPayload - HeaderRoom), Math.Max(1024, (_window / 4) - NatsWire.FrameCost));

    // Packed frames stay small enough to share (PackedMessages.MaxFrameBytes) and within the frame's room.
    private int PackBound() => Math.Min(PackedMessages.MaxFrameBytes, MaxChunk());

    // Under the lock: publishes the held-back message and the gathered frame, in that order, ahead of a later frame.
    private void PublishHeldLocked()
    {
        PublishDeferredLocked(NatsWire.Names.Data);
        NatsLink.Observe(PublishBatchLocked(last: false));
    }

    // Under the lock: appends one message to the gathered frame.
    private void AppendLocked(ReadOnlySpan<byte> message, int bound)
    {
        var needed = message.Length + PackedMessages.PrefixBytes;
        PackedMessages.Write(_batch.Reserve(needed, bound), message);
        _batch.Added(needed);
    }

    // Under the lock: publishes the gathered messages as one frame (`msgs`, or `msgs-last` with the end); a message
    // alone goes as `data` (or `last`), which is 8 bytes shorter. Completed when nothing has gathered.
    private ValueTask PublishBatchLocked(bool last)
    {
        if (_batch.Count == 0)
        {
            return default;
        }

        var sent = _batch.Count == 1
            ? PublishLocked(last ? NatsWire.Names.Last : NatsWire.Names.Data, payload: _batch.Contents.Slice(PackedMessages.PrefixBytes))
            : PublishLocked(last ? NatsWire.Names.MsgsLast : NatsWire.Names.Msgs, NatsWire.Names.Count, _batch.Count, _batch.Contents);

        // Appended to the connection (a copy): the array can go back.
        _batch.Clear();
        return sent;
    }

    // Under the lock: sends the held-back message as a frame of the given kind; false when there is none.
    private bool PublishDeferredLocked(string kind)
    {
        if (_deferred is not { } buffer)
        {
            return false;
        }

        NatsLink.Observe(PublishLocked(kind, payload: new ReadOnlySequence<byte>(buffer, 0, _deferredLength)));

        // Appended to the connection (a copy): the array can go back.
        ReturnDeferredLocked();
        return true;
    }

    private void ReturnDeferredLocked()
    {
        if (_deferred is { Length: > 0 } buffer)
        {
            _deferredPool?.Return(buffer);
        }

        _deferred = null;
        _deferredPool = null;
    }

    // Under the lock: numbers the frame and hands it to the client, so numbers and order always agree.
    private ValueTask PublishLocked(string kind, string? name = null, long value = 0, ReadOnlySequence<byte> payload = default, int errorCode = 0, bool refused = false)
    {
        var seq = _seq++;

        // A request's first frame tells a client that reads lasts frames that this server reads heads frames.
        var batch = seq == 0 && _answers is not null;
        var headers = errorCode != 0
            ? NatsWire.Headers(_frame, kind, NatsWire.Names.Seq, seq, NatsWire.Names.ErrorCode, errorCode, refused, batch)
            : NatsWire.Headers(_frame, kind, NatsWire.Names.Seq, seq, name, value, batch: batch);
        return _link.PublishAsync(ReplyTo, null, headers, payload);
    }
}
