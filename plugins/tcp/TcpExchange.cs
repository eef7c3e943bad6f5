using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// One request on the server: it assembles the payload from REQUEST and DATA frames, then hands the request to the
/// dispatcher on the thread pool with a <see cref="TcpResponseWriter"/> as its response channel, and ends the response
/// when the dispatcher completes it: ERROR, or the normal end (in the last DATA or MESSAGES frame where it can, see
/// TcpExchange.Ending.cs, else END). It ends exactly once: completed by the dispatcher, or aborted (client
/// CANCEL, connection lost, server closed, a broken stream rule), in which case the reason is recorded, any ERROR is
/// queued, and then <see cref="IncomingRequest.Aborted"/> fires.
/// </summary>
internal sealed partial class TcpExchange : IThreadPoolWorkItem
{
    private readonly ServerSession _session;
    private readonly FrameConnection _connection;
    private readonly DecodedRequest _request;
    private readonly PayloadBuilder _payload;
    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _gate = new();
    private readonly long _maxPayloadBytes;
    private readonly int _streamReturnThreshold;
    private long _receiveRemaining;
    private int _pendingStreamReturn;
    private bool _started;
    private bool _responseEnded;
    private bool _finished;
    private PlexusException? _abortError;

    // 1 while the server counts this stream as admitted but not yet handed to the dispatcher (see TcpServer).
    private int _undispatched = 1;

    public TcpExchange(ServerSession session, FrameConnection connection, uint id, in DecodedRequest request, long maxPayloadBytes)
    {
        _session = session;
        _connection = connection;
        _request = request;
        _maxPayloadBytes = maxPayloadBytes;
        _payload = new PayloadBuilder(connection.Pool);
        _receiveRemaining = connection.Local.StreamWindowBytes;
        _streamReturnThreshold = connection.Local.StreamWindowBytes / 4;
        Id = id;
        SendWindow = new CreditWindow(connection.Peer.StreamWindowBytes, connection);
    }

    /// <summary>The stream id.</summary>
    public uint Id { get; }

    /// <summary>Credit for this stream's response frames.</summary>
    public CreditWindow SendWindow { get; }

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

        // In low-latency mode the request runs here at once, on the reader thread, until it first waits. Otherwise it
        // starts off the reader loop with the other requests of the same read (ServerSession.OnReadComplete).
        if (_connection.IsDispatching)
        {
            Execute();
        }
        else
        {
            _session.ScheduleStart(this);
        }
    }

    /// <summary>Hands the request to the dispatcher; called by the thread pool.</summary>
    public void Execute() => _ = DispatchAsync();

    /// <summary>Whether the response takes no more frames (ended, or aborted).</summary>
    public bool IsResponseEnded => Volatile.Read(ref _responseEnded);

    /// <summary>Queues a response DATA or MESSAGES frame unless the response has ended.</summary>
    /// <returns><see langword="false"/> when the frame was not queued.</returns>
    public bool SendData(in OutgoingFrame frame)
    {
        // A plain read suffices: the frame is queued outside any lock either way, so a lock here would order nothing;
        // a DATA frame that crosses an ERROR is dropped by the client, its credit returned.
        if (Volatile.Read(ref _responseEnded))
        {
            return false;
        }

        return _connection.Send(Stamp(frame));
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
    /// Ends the response as the dispatcher asked: normally (END_STREAM on the last DATA or MESSAGES frame when it has not
    /// been written yet on a version-3 connection, else END), or ERROR with <paramref name="error"/>'s code, message and
    /// retry flag as given; nothing when the stream was aborted first. <paramref name="trailing"/> (the writer's last
    /// buffer) travels behind the last frame that points into it.
    /// </summary>
    public void End(PlexusException? error, byte[]? trailing)
    {
        lock (_gate)
        {
            if (!_responseEnded)
            {
                _responseEnded = true;
                if (error is not null || !TryEndInFrameLocked(ref trailing))
                {
                    if (_holding)
                    {
                        // Flushed before the handler failed: the message goes first, as it would have without holding.
                        SendHeldLocked();
                    }

                    var last = error is null ? new OutgoingFrame(FrameType.End, 0, Id) : Frames.Error(Id, error);
                    _connection.Send(last with { Buffer = trailing });
                    trailing = null;
                }
            }
            else
            {
                DropHeldLocked();
            }
        }

        if (trailing is not null)
        {
            _connection.Send(new OutgoingFrame(FrameType.Data, 0, Id) { Buffer = trailing, ReleaseOnly = true });
        }

        Finish();
    }

    /// <summary>
    /// Ends the request early: records why, queues ERROR when <paramref name="notifyClient"/> (the client is still
    /// listening), wakes a handler waiting for credit, then fires <see cref="IncomingRequest.Aborted"/>.
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
            DropHeldLocked();
            running = _started;
        }

        SendWindow.Close(error);
        if (running)
        {
            // The dispatcher completes the stream once the handler has seen its token; Finish follows from there.
            _aborted.Cancel();
        }
        else
        {
            // The payload never completed: nothing else will clean up.
            Finish();
        }
    }

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
        DropHeldLocked();
        if (!_started)
        {
            // Cleaned up outside the lock, since nothing else will.
            ThreadPool.UnsafeQueueUserWorkItem(static stream => stream.Finish(), this, preferLocal: false);
        }
        else
        {
            _aborted.Cancel();
        }
    }

    private async Task DispatchAsync()
    {
        var payload = _payload.Take();
        var channel = new TcpResponseWriter(this, _connection, _maxPayloadBytes);
        try
        {
            if (_aborted.IsCancellationRequested)
            {
                // Cancelled or lost between the last payload byte and now: no handler needs to run for it.
                return;
            }

            var request = new IncomingRequest(_request.Endpoint, _request.Instance, _request.RequestId, payload.ToSequence(), _request.Headers, _request.Deadline, _aborted.Token);
            ValueTask dispatch;
            try
            {
                // The dispatcher counts the request in flight before this returns: from here its drain waits for it.
                dispatch = _session.Dispatcher.DispatchAsync(request, channel);
            }
            finally
            {
                HandedOver();
            }

            if (!dispatch.IsCompleted && _connection.EndsInFrame)
            {
                // Past the handler's first await: a message held back to go with the end must not wait for the handler.
                EndDeferral();
            }

            await dispatch.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The contract says DispatchAsync does not throw; one that does costs this request, not the connection.
            await channel.CompleteAsync(PlexusException.Unavailable($"The server could not run the request: {exception.Message}")).ConfigureAwait(false);
        }
        finally
        {
            if (!channel.IsCompleted)
            {
                // Skipped, or a dispatcher that returned without ending the stream: the client must not be left waiting.
                await channel.CompleteAsync(EndedError()).ConfigureAwait(false);
            }

            // The payload stays valid until the dispatch has completed.
            payload.Return(_connection.Pool);
        }
    }

    private void HandedOver()
    {
        if (Interlocked.Exchange(ref _undispatched, 0) == 1)
        {
            _session.HandedOver();
        }
    }

    private void Finish()
    {
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            _responseEnded = true;
            DropHeldLocked();
        }

        if (_abortError is { } aborted)
        {
            SendWindow.Close(aborted);
        }
        else
        {
            SendWindow.Close(static _ => PlexusException.Unavailable("The request has ended."), this);
        }

        if (!_started)
        {
            _payload.Discard();
        }

        // A stream that ends before it was handed over no longer holds up StopAcceptingAsync.
        HandedOver();
        _session.StreamFinished(this);
    }
}
