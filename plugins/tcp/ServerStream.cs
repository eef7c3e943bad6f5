using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// One request on the server: it assembles the payload from REQUEST and DATA frames, then runs the handler on the
/// thread pool and sends its messages, END or ERROR. It ends exactly once: orderly (the handler returned or threw) or
/// aborted (client CANCEL, deadline, connection lost, server stopped), in which case the reason is recorded and any
/// ERROR queued before the handler's token fires.
/// </summary>
internal sealed class ServerStream : IThreadPoolWorkItem
{
    // Timers cannot wait longer than this (about 49 days); a later deadline is as good as none.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    private readonly ServerSession _session;
    private readonly FrameConnection _connection;
    private readonly IEndpointHandler _handler;
    private readonly DecodedRequest _request;
    private readonly PayloadBuilder _payload;
    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _gate = new();
    private readonly long _maxPayloadBytes;
    private readonly int _streamReturnThreshold;
    private long _receiveRemaining;
    private int _pendingStreamReturn;
    private Timer? _deadlineTimer;
    private bool _started;
    private bool _responseEnded;
    private bool _finished;
    private PlexusException? _abortError;

    public ServerStream(ServerSession session, FrameConnection connection, uint id, IEndpointHandler handler, in DecodedRequest request, long maxPayloadBytes)
    {
        _session = session;
        _connection = connection;
        _handler = handler;
        _request = request;
        _maxPayloadBytes = maxPayloadBytes;
        _payload = new PayloadBuilder(connection.Pool);
        _receiveRemaining = connection.Local.StreamWindowBytes;
        _streamReturnThreshold = connection.Local.StreamWindowBytes / 4;
        Id = id;
        SendWindow = new CreditWindow(connection.Peer.StreamWindowBytes);
    }

    /// <summary>The stream id.</summary>
    public uint Id { get; }

    /// <summary>Credit for this stream's response frames.</summary>
    public CreditWindow SendWindow { get; }

    /// <summary>Starts the deadline clock; called once the stream is registered.</summary>
    public void StartDeadline()
    {
        if (_request.Deadline is not { } deadline)
        {
            return;
        }

        var remaining = deadline - DateTimeOffset.UtcNow;
        if (remaining <= TimeSpan.Zero)
        {
            Abort(DeadlinePassed(), notifyClient: true);
        }
        else if (remaining < LongestTimer)
        {
            var timer = new Timer(static state => ((ServerStream)state!).Abort(DeadlinePassed(), notifyClient: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            lock (_gate)
            {
                _deadlineTimer = timer;
            }

            timer.Change(remaining, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Takes payload bytes of a REQUEST or DATA frame; called on the reader loop.</summary>
    /// <exception cref="PlexusException">The client broke flow control (a connection error).</exception>
    public void OnPayload(in ReadOnlySequence<byte> body, bool endStream)
    {
        var charge = (int)body.Length + Wire.FrameCharge;
        _receiveRemaining -= charge;
        if (_receiveRemaining < 0)
        {
            throw PlexusException.Protocol($"Stream {Id} received more than its window of {_connection.Local.StreamWindowBytes} bytes of credit; flow control was not respected.");
        }

        bool start;
        lock (_gate)
        {
            if (_responseEnded || _started)
            {
                // Aborted, or payload after END_STREAM (which is a stream error below): nothing to keep.
                _connection.ReturnCredit(charge);
                if (_started && !_responseEnded)
                {
                    FailLocked(PlexusException.Protocol($"Stream {Id} sent payload after the frame that ended it."));
                }

                return;
            }

            var length = _payload.Length + body.Length;
            if (length > _request.PayloadLength)
            {
                _connection.ReturnCredit(charge);
                FailLocked(PlexusException.Protocol($"Stream {Id} declared a payload of {_request.PayloadLength} bytes but sent more."));
                return;
            }

            // Trust the declared length for the first array only up to 1 MiB; beyond that memory follows what arrives.
            _payload.Append(body, (int)Math.Min(_request.PayloadLength, 1024 * 1024));
            if (endStream && length != _request.PayloadLength)
            {
                _connection.ReturnCredit(charge);
                FailLocked(PlexusException.Protocol($"Stream {Id} declared a payload of {_request.PayloadLength} bytes but ended after {length}."));
                return;
            }

            start = endStream;
            _started = start;
        }

        // The bytes are in the request's own buffer now: the peer may send more.
        _connection.ReturnCredit(charge);
        if (!start)
        {
            _pendingStreamReturn += charge;
            if (_pendingStreamReturn >= _streamReturnThreshold)
            {
                _receiveRemaining += _pendingStreamReturn;
                _connection.Send(new OutgoingFrame(FrameType.Credit, 0, Id, value: (ulong)_pendingStreamReturn));
                _pendingStreamReturn = 0;
            }

            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Runs the handler; called by the thread pool.</summary>
    public void Execute() => _ = RunAsync();

    /// <summary>Queues a response DATA frame unless the response has ended.</summary>
    /// <returns><see langword="false"/> when the frame was not queued.</returns>
    public bool SendData(in OutgoingFrame frame)
    {
        // A plain read suffices: the frame is queued outside any lock either way, so a lock here would order nothing;
        // a DATA frame that crosses an ERROR is dropped by the client, its credit returned.
        if (Volatile.Read(ref _responseEnded))
        {
            return false;
        }

        return _connection.Send(frame);
    }

    /// <summary>Why the response can take no more frames.</summary>
    public PlexusException EndedError()
    {
        lock (_gate)
        {
            return _abortError ?? _connection.CloseError ?? PlexusException.Unavailable("The request has ended.");
        }
    }

    /// <summary>
    /// Ends the request early: records why, queues ERROR when <paramref name="notifyClient"/> (the client is still
    /// listening), wakes a handler waiting for credit, then fires the handler's token.
    /// </summary>
    public void Abort(PlexusException error, bool notifyClient)
    {
        bool running;
        lock (_gate)
        {
            if (_abortError is not null || _finished)
            {
                return;
            }

            _abortError = error;
            if (notifyClient && !_responseEnded)
            {
                _connection.Send(Frames.Error(Id, error));
            }

            _responseEnded = true;
            running = _started;
        }

        SendWindow.Close(error);
        if (running)
        {
            _aborted.Cancel();
        }
        else
        {
            // The handler never started: nothing else will clean up.
            Finish();
        }
    }

    private static PlexusException DeadlinePassed() =>
        new(PlexusErrorCode.Timeout, "The request's deadline passed on the server before the handler finished.");

    // What the client sees when a handler throws: the handler's message, and its code if it chose one.
    private static PlexusException ToClientError(Exception exception) => exception is PlexusException plexus
        ? new PlexusException(plexus.Code, plexus.Message) { BeforeFirstByte = false }
        : new PlexusException(PlexusErrorCode.HandlerError, exception.Message);

    private void FailLocked(PlexusException error)
    {
        // A stream error: this request fails, the connection's other streams carry on.
        if (_abortError is not null)
        {
            return;
        }

        _abortError = error;
        if (!_responseEnded)
        {
            _connection.Send(Frames.Error(Id, error));
        }

        _responseEnded = true;
        if (!_started)
        {
            // Cleaned up outside the lock by the caller's next step; do it here since nothing else will.
            ThreadPool.UnsafeQueueUserWorkItem(static stream => stream.Finish(), this, preferLocal: false);
        }
        else
        {
            _aborted.Cancel();
        }
    }

    private async Task RunAsync()
    {
        var payload = _payload.Take();
        var context = new RequestContext(_request.Endpoint, _request.RequestId, payload.ToSequence(), _request.Headers, _request.Deadline, _aborted.Token);
        var writer = new TcpResponseWriter(this, _connection, _maxPayloadBytes);
        PlexusException? failure = null;
        byte[]? trailing = null;
        try
        {
            await _handler.HandleAsync(context, writer).ConfigureAwait(false);

            // Returning ends the stream; messages ended but not flushed still go out first.
            await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            failure = ToClientError(exception);
        }
        finally
        {
            trailing = writer.Complete();
            payload.Return(_connection.Pool);
        }

        lock (_gate)
        {
            if (!_responseEnded)
            {
                // The last frame carries the writer's buffer back to the pool, behind the DATA frames that point into it.
                _responseEnded = true;
                var last = failure is null ? new OutgoingFrame(FrameType.End, 0, Id) : Frames.Error(Id, failure);
                _connection.Send(last with { Buffer = trailing });
                trailing = null;
            }
        }

        if (trailing is not null)
        {
            _connection.Send(new OutgoingFrame(FrameType.Data, 0, Id) { Buffer = trailing, ReleaseOnly = true });
        }

        Finish();
    }

    private void Finish()
    {
        Timer? timer;
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            _responseEnded = true;
            timer = _deadlineTimer;
            _deadlineTimer = null;
        }

        timer?.Dispose();
        SendWindow.Close(_abortError ?? PlexusException.Unavailable("The request has ended."));
        if (!_started)
        {
            _payload.Discard();
        }

        _session.StreamFinished(this);
    }
}
