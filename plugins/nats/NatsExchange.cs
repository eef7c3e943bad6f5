using System.Buffers;
using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The serving side of one request: its payload (assembled from chunks when large), its abort token, the credit the
/// requester granted, and the numbered frames sent back. Every sequenced frame is numbered and appended under one lock,
/// so frames reach the requester in number order whoever sends them (handler, dispatcher, server stopping). This file
/// holds the request's life; <c>NatsExchange.Sending.cs</c> the response frames and their credit;
/// <c>NatsExchange.Plain.cs</c> the one reply of a plain NATS caller.
/// </summary>
internal sealed partial class NatsExchange
{
    private const int HeaderRoom = 192;

    private readonly NatsLink _link;
    private readonly Lock _gate = new();

    // Frame headers, refilled for every frame under the lock: the client writes them before a publish returns.
    private readonly NatsHeaders _frame = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly RequestHead _head;
    private readonly long _deadAfterMs;
    private long _expectedPart = 1;
    private int _received;
    private bool _ended;
    private PlexusException? _abortError;
    private long _lastFromClient;
    private int _claimed;

    // Where a one-frame answer goes to be sent with other answers to the same client (clients that read lasts frames).
    private readonly NatsAnswerBatcher? _answers;

    /// <summary>Creates the exchange of a request whose head arrived and was admitted.</summary>
    /// <param name="link">The server's connection.</param>
    /// <param name="replyTo">The requester's reply subject.</param>
    /// <param name="endpoint">The endpoint the subject names.</param>
    /// <param name="instance">The instance id the subject names.</param>
    /// <param name="head">The request head.</param>
    /// <param name="payload">A rented array of at least <see cref="RequestHead.Length"/> bytes for the payload.</param>
    /// <param name="answers">The server's answer gatherer, used when the requester reads <c>lasts</c> frames.</param>
    public NatsExchange(NatsLink link, string replyTo, EndpointAddress endpoint, InstanceId instance, RequestHead head, byte[] payload, NatsAnswerBatcher? answers = null)
    {
        _link = link;
        _answers = head.AnswersBatched && !head.Plain ? answers : null;
        _head = head;
        _window = head.Window;
        _packs = head.Packed && !head.Plain;
        _deadAfterMs = 3 * head.KeepAliveMs;
        ReplyTo = replyTo;
        Endpoint = endpoint;
        Instance = instance;
        Payload = payload;
        Length = (int)head.Length;
        Started = System.Diagnostics.Stopwatch.GetTimestamp();
        _lastFromClient = Environment.TickCount64;
    }

    /// <summary>Whether the request came from a plain NATS caller: one reply, no frames.</summary>
    public bool Plain => _head.Plain;

    /// <summary>When the head arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), for the service statistics.</summary>
    public long Started { get; }

    /// <summary>The error the requester was sent, if the request ended with one.</summary>
    public PlexusException? Failure { get; private set; }

    /// <summary>The requester's reply subject; the key of the exchange.</summary>
    public string ReplyTo { get; }

    /// <summary>The endpoint.</summary>
    public EndpointAddress Endpoint { get; }

    /// <summary>The instance id the request names.</summary>
    public InstanceId Instance { get; }

    /// <summary>The rented payload array.</summary>
    public byte[] Payload { get; }

    /// <summary>The payload's length.</summary>
    public int Length { get; }

    /// <summary>Whether the whole payload has arrived.</summary>
    public bool Complete => _received == Length;

    /// <summary>Whether the exchange has ended.</summary>
    public bool HasEnded
    {
        get
        {
            lock (_gate)
            {
                return _ended;
            }
        }
    }

    /// <summary>Claims the request once: either it is dispatched (and cleaned up after) or the server drops it.</summary>
    /// <returns><see langword="true"/> for the one caller that claimed it.</returns>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>The request as the dispatcher takes it; its payload stays valid until the exchange is cleaned up.</summary>
    /// <returns>The request.</returns>
    public IncomingRequest ToRequest() => new(
        Endpoint,
        Instance,
        _head.RequestId,
        new ReadOnlySequence<byte>(Payload, 0, Length),
        _head.Headers,
        _head.Deadline,
        _aborted.Token);

    /// <summary>Copies the first chunk of the payload (from the request head).</summary>
    /// <param name="chunk">The bytes.</param>
    public void AddFirst(in ReadOnlySequence<byte> chunk)
    {
        chunk.CopyTo(Payload);
        _received = (int)chunk.Length;
    }

    /// <summary>Copies one more chunk of the payload; on the read loop.</summary>
    /// <param name="header">The chunk's headers.</param>
    /// <param name="chunk">The bytes.</param>
    /// <returns>An error that ends the request, or <see langword="null"/>.</returns>
    public PlexusException? AddPart(FrameHeader header, in ReadOnlySequence<byte> chunk)
    {
        Touch();
        if (header.Seq != _expectedPart)
        {
            return PlexusException.Protocol($"Request chunk {_expectedPart} never arrived (chunk {header.Seq} came instead); the request payload is incomplete.");
        }

        if (_received + chunk.Length > Length)
        {
            return PlexusException.Protocol($"The request's chunks add up to more than its announced length ({Length} bytes).");
        }

        _expectedPart++;
        chunk.CopyTo(Payload.AsSpan(_received));
        _received += (int)chunk.Length;
        return null;
    }

    /// <summary>Notes that the requester was heard from.</summary>
    public void Touch() => Volatile.Write(ref _lastFromClient, Environment.TickCount64);

    /// <summary>Ends the request in order: the end frame, or the error frame after the messages already sent.</summary>
    /// <param name="error">The error to end with, or <see langword="null"/>.</param>
    public void Finish(PlexusException? error)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _deferAllowed = false;
            if (Plain)
            {
                FinishPlainLocked(error);
            }
            else if (error is null)
            {
                // The last frame carries the end: `msgs-last` or `last` when messages are still held, else `end`.
                if (_batch.Count > 0)
                {
                    PublishDeferredLocked(NatsWire.Names.Data);
                    NatsLink.Observe(PublishBatchLocked(last: true));
                }
                else if (_deferred is { } held && _seq == 0 && _answers is not null
                    && _answers.TryAdd(ReplyTo, BatchedAnswers.LastKind, 0, false, held.AsSpan(0, _deferredLength)))
                {
                    // The request's only frame goes with other answers to the same client.
                    _seq++;
                    ReturnDeferredLocked();
                }
                else if (!PublishDeferredLocked(NatsWire.Names.Last))
                {
                    NatsLink.Observe(PublishLocked(NatsWire.Names.End));
                }
            }
            else if (_seq == 0 && _deferred is null && _batch.Count == 0 && _answers is not null)
            {
                Failure = error;
                if (_answers.TryAdd(ReplyTo, BatchedAnswers.ErrorKind, (int)error.Code, error.BeforeFirstByte, Encoding.UTF8.GetBytes(error.Message)))
                {
                    _seq++;
                }
                else
                {
                    PublishErrorLocked(error);
                }
            }
            else
            {
                PublishHeldLocked();
                PublishErrorLocked(error);
            }
        }
    }

    /// <summary>
    /// Ends the request at once: fires <see cref="IncomingRequest.Aborted"/> and wakes a sender waiting for credit.
    /// With <paramref name="notifyClient"/>, the requester gets an error frame (the server stopping); without, it is
    /// the requester that ended it (cancel) or it cannot be reached.
    /// </summary>
    /// <param name="error">Why.</param>
    /// <param name="notifyClient">Whether to send the error to the requester.</param>
    public void Abort(PlexusException error, bool notifyClient)
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _deferAllowed = false;
            _abortError = error;
            wake = _creditWaiter;
            _creditWaiter = null;
            if (notifyClient && Plain)
            {
                FinishPlainLocked(error);
            }
            else if (notifyClient)
            {
                // What the handler flushed goes first, as it would have without being held back.
                PublishHeldLocked();
                PublishErrorLocked(error);
            }
            else
            {
                ReturnDeferredLocked();
                _batch.Clear();
            }
        }

        wake?.TrySetResult(false);
        try
        {
            _aborted.Cancel();
        }
        catch (AggregateException)
        {
            // A callback the handler registered threw; that is the handler's problem, not a reason to stop aborting.
        }
    }

    /// <summary>Aborts the request when the requester has been silent for three of its keep-alive intervals.</summary>
    /// <param name="now">The tick count now.</param>
    public void Sweep(long now)
    {
        // A plain caller sends nothing after its request; it gives up on its own timeout.
        if (!Plain && now - Volatile.Read(ref _lastFromClient) >= _deadAfterMs)
        {
            Abort(new PlexusException(PlexusErrorCode.Unavailable, $"The requester of {Endpoint} has been silent for {_deadAfterMs} ms; it is presumed gone."), notifyClient: false);
        }
    }

    /// <summary>Answers a requester's ping.</summary>
    /// <returns>The publish, for the read loop to wait on while the outbox is full.</returns>
    public ValueTask PongAsync()
    {
        Touch();
        lock (_gate)
        {
            // Not sequenced; under the lock only because the headers object is shared.
            return _link.PublishAsync(ReplyTo, null, NatsWire.Headers(_frame, NatsWire.Names.Pong), ReadOnlySequence<byte>.Empty);
        }
    }

    private PlexusException ErrorForHandler() =>
        _abortError is { } error
            ? new PlexusException(error.Code, error.Message)
            : new PlexusException(PlexusErrorCode.Cancelled, "The request has already ended; nothing more can be written to it.");

    private void PublishErrorLocked(PlexusException error)
    {
        Failure = error;
        var text = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(error.Message));
        NatsLink.Observe(PublishLocked(NatsWire.Names.Error, payload: text, errorCode: (int)error.Code, refused: error.BeforeFirstByte));
    }
}
