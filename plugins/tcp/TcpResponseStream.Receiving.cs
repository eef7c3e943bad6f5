using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>What the reader loop hands a response stream: DATA and MESSAGES frames, the end, and a broken rule.</summary>
internal sealed partial class TcpResponseStream
{
    /// <summary>Payload bytes of a response message arrived; called on the reader loop.</summary>
    /// <exception cref="PlexusException">The server broke flow control (a connection error).</exception>
    public void OnData(in ReadOnlySequence<byte> body, bool endMessage)
    {
        var charge = (int)body.Length + Wire.FrameCharge;
        PlexusException? tooLarge = null;
        lock (_gate)
        {
            if (!TakeChargeLocked(charge))
            {
                return;
            }

            var length = (_assembly?.Length ?? 0) + body.Length;
            if (length > _maxMessageBytes)
            {
                tooLarge = PlexusException.TooLarge("response message", length, _maxMessageBytes, TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxPayloadBytes)));
                _connection.ReturnCredit(charge);
            }
            else if (endMessage && AssemblyIsEmpty && _withheld == 0 && body.Length <= SmallMessageBytes)
            {
                // Its credit is its length + the frame charge, which the caller works out again when moving past it.
                AppendSmallLocked(body);
                ScheduleWakeLocked();
            }
            else
            {
                var assembly = _assembly ??= new PayloadBuilder(_pool);
                assembly.Append(body, assembly.IsEmpty && endMessage ? (int)body.Length : 16 * 1024);
                if (endMessage)
                {
                    CloseRunLocked();
                    _messages.Enqueue(new ReceivedMessage(assembly.Take(), _withheld + charge, null, 0));
                    _withheld = 0;
                    ScheduleWakeLocked();
                }
                else if (NothingToReadLocked())
                {
                    // Nothing else to read: holding this credit could only stall a message larger than the window.
                    ReturnLocked(charge);
                }
                else
                {
                    _withheld += charge;
                }
            }
        }

        if (tooLarge is not null)
        {
            Abort(tooLarge, PlexusErrorCode.Cancelled);
        }
    }

    /// <summary>A MESSAGES frame of <paramref name="count"/> whole messages arrived; called on the reader loop.</summary>
    /// <exception cref="PlexusException">The server broke flow control (a connection error).</exception>
    public void OnMessages(in ReadOnlySequence<byte> body, int count)
    {
        var charge = FrameConnection.PackedCharge(body.Length, (ulong)count);
        PlexusException? failure = null;
        PlexusException? tooLarge = null;
        lock (_gate)
        {
            if (!TakeChargeLocked(charge))
            {
                return;
            }

            long largest = 0;
            var problem = AssemblyIsEmpty
                ? PackedMessages.Check(body, count, out largest)
                : $"a MESSAGES frame arrived while {_assembly!.Length} bytes of a message waited for the rest of it";
            if (problem is not null)
            {
                // The frame's bytes are read and dropped; this stream cannot go on, the connection can.
                _connection.ReturnCredit(charge);
                failure = PlexusException.Protocol($"{_session.Address} broke the Plexus TCP protocol on stream {Id}: {problem}.");
            }
            else if (largest > _maxMessageBytes)
            {
                _connection.ReturnCredit(charge);
                tooLarge = PlexusException.TooLarge("response message", largest, _maxMessageBytes, TcpTransportOptions.Key(nameof(TcpTransportOptions.MaxPayloadBytes)));
            }
            else
            {
                // Each message's credit is its length + the frame charge, which the caller works out again when moving past it.
                AppendPackedLocked(body);
                ScheduleWakeLocked();
            }
        }

        if (failure is not null)
        {
            Fail(failure);
        }
        else if (tooLarge is not null)
        {
            Abort(tooLarge, PlexusErrorCode.Cancelled);
        }
    }

    /// <summary>Wakes the caller if messages queued during this read are waiting for it; called on the reader loop.</summary>
    public void WakeScheduled()
    {
        _wakeScheduled = false;
        if (_connection.IsLowLatency)
        {
            // The caller's continuation runs here, on the reader thread.
            WakeInline();
            return;
        }

        lock (_gate)
        {
            WakeLocked();
        }
    }

    /// <summary>Clears the wake the reader loop scheduled, which a <see cref="WakeBatch"/> now does; on the reader loop.</summary>
    public void TakeScheduledWake() => _wakeScheduled = false;

    /// <summary>
    /// Wakes the caller if it still waits, running its continuation on this thread (a <see cref="WakeBatch"/>'s, or the
    /// reader thread in low-latency mode) with no lock held. Nothing else completes this wait meanwhile, since the wait
    /// is taken under the lock; every other wake sets the continuation to run asynchronously again.
    /// </summary>
    public void WakeInline()
    {
        lock (_gate)
        {
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
            _signal.RunContinuationsAsynchronously = false;
        }

        _signal.SetResult(true);
    }

    /// <summary>The server ended the stream (END, or ERROR with <paramref name="error"/>); queued messages are still read first.</summary>
    /// <param name="error">The server's error, or <see langword="null"/> for a normal end.</param>
    /// <param name="onReader">Called by the reader loop's dispatch of a frame: the caller is woken with the others of
    /// the read once it is parsed, as for a message.</param>
    public void OnEnd(PlexusException? error, bool onReader = false)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _endError = error;
            DiscardAssemblyLocked();
            if (onReader || _connection.IsDispatching)
            {
                // With the messages of the same read, outside the lock (see WakeScheduled).
                ScheduleWakeLocked();
            }
            else
            {
                WakeLocked();
            }
        }

        // The server grants no more credit for an ended stream: a sender still waiting for some must fail, not hang.
        if (error is not null)
        {
            SendWindow.Close(error);
        }
        else
        {
            SendWindow.Close(static stream => PlexusException.Unavailable($"Stream {((TcpResponseStream)stream).Id} has ended; it takes no more request payload."), this);
        }

        DisposeTimer();
    }

    /// <summary>
    /// Ends the stream because the server broke the protocol on it: the caller reads what arrived intact before, then
    /// gets <paramref name="error"/>; the server is told with a CANCEL, and the connection's other streams carry on.
    /// </summary>
    public void Fail(PlexusException error)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _endError = error;
            DiscardAssemblyLocked();
            WakeLocked();
        }

        TcpLog.StreamViolation(_connection.Logger, Id, _connection.PeerName, error.Message);
        SendWindow.Close(error);
        _session.Cancel(this, PlexusErrorCode.Cancelled);
        DisposeTimer();
    }

    // A frame's credit, charged to the stream's window; false (the credit given back) when the stream has ended.
    private bool TakeChargeLocked(int charge)
    {
        if (_ended || _disposed)
        {
            _connection.ReturnCredit(charge);
            return false;
        }

        _receiveRemaining -= charge;
        return _receiveRemaining >= 0
            ? true
            : throw PlexusException.Protocol($"Stream {Id} received more than its window of {_connection.Local.StreamWindowBytes} bytes of credit; flow control was not respected.");
    }

    // Whether no large message is part way in.
    private bool AssemblyIsEmpty => _assembly is null || _assembly.IsEmpty;
}
