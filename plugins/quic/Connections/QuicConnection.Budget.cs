using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// What the connection owes its peer: bytes its streams have handed to QUIC that the peer has not acknowledged yet,
/// across all streams (sent and in flight, or waiting for flow control or congestion). At
/// <see cref="QuicConnectionSettings.ConnectionSendBufferBytes"/> the connection is <em>full</em>: the writers of
/// bidirectional streams wait in their flush, the streams the peer opens are not handed out, and closed streams give
/// the peer no new ones (MAX_STREAMS), until the peer has acknowledged what it is owed down to half the budget. A
/// peer that acknowledges nothing for <see cref="QuicConnectionSettings.StalledPeerTimeout"/> while the connection is
/// full is closed. State under the gate; <see cref="_sendFull"/> is also read without it, as a hint.
/// </summary>
internal sealed partial class QuicConnection
{
    private readonly long _sendBudget;
    private readonly ulong _stalledPeerTimeout;
    private long _owed;
    private volatile bool _sendFull;
    private TaskCompletionSource? _sendRoom;

    // When a full connection is closed unless the peer acknowledges something first (ngtcp2 time; 0: not full).
    private ulong _stallDeadline;

    /// <summary>Bytes the connection's streams owe the peer now: handed to QUIC and not acknowledged.</summary>
    public long OwedBytes
    {
        get
        {
            lock (_gate)
            {
                return _owed;
            }
        }
    }

    /// <summary>Whether the connection owes the peer its whole budget (until the peer has acknowledged down to half of it).</summary>
    public bool IsSendFull => _sendFull;

    /// <summary>Whether the connection has closed, or is closing on another thread right now (waits for the gate).</summary>
    public bool HasEnded
    {
        get
        {
            lock (_gate)
            {
                return _closeInfo is not null;
            }
        }
    }

    /// <summary>
    /// Null when the connection is not full; otherwise a task that completes once it has room again (or has closed).
    /// The server waits on it before it hands out a stream the peer opened.
    /// </summary>
    public Task? WaitForSendRoom()
    {
        if (!_sendFull)
        {
            return null;
        }

        lock (_gate)
        {
            return SendRoomLocked();
        }
    }

    /// <summary>Under the gate: what a writer of a bidirectional stream waits for, or null when the connection has room.</summary>
    internal Task? SendRoomLocked()
    {
        if (!_sendFull || _closeInfo is not null)
        {
            return null;
        }

        _sendRoom ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _sendRoom.Task;
    }

    /// <summary>Under the gate: a stream handed QUIC <paramref name="bytes"/> more to send (negative: it let go of them unacknowledged).</summary>
    internal void Owe(long bytes)
    {
        if (_closeInfo is not null)
        {
            return;
        }

        _owed += bytes;
        if (_sendBudget == 0)
        {
            return;
        }

        if (!_sendFull)
        {
            if (_owed >= _sendBudget)
            {
                _sendFull = true;
                _stallDeadline = QuicClock.Now(_time) + _stalledPeerTimeout;
            }
        }
        else if (_owed <= _sendBudget / 2)
        {
            _sendFull = false;
            _stallDeadline = 0;
            Release(ref _sendRoom);
            GrantClosedStreams();
        }
    }

    /// <summary>Under the gate (inside ngtcp2's callback): the peer acknowledged <paramref name="bytes"/> of a stream's data.</summary>
    internal void Acknowledged(long bytes)
    {
        if (_sendFull)
        {
            // Progress: the deadline starts again.
            _stallDeadline = QuicClock.Now(_time) + _stalledPeerTimeout;
        }

        if (bytes > 0)
        {
            Owe(-bytes);
        }
    }

    /// <summary>The connection's timer: closes the connection when it has been full with no acknowledgement until the deadline.</summary>
    private bool CloseIfStalled(ulong now)
    {
        if (_stallDeadline == 0 || now < _stallDeadline)
        {
            return false;
        }

        var stalled = (long)((now - _stallDeadline + _stalledPeerTimeout) / 1_000_000);
        QuicEngineLog.StalledPeer(_logger, RemoteEndPoint, stalled, _owed, _sendBudget);
        CloseLocked(
            QuicErrorCodes.Stalled,
            $"nothing sent to you was acknowledged for {stalled} ms while you were owed {_owed} bytes (StalledPeerTimeout)");
        return true;
    }

    /// <summary>Streams the peer opened have closed: room for as many new ones, granted in batches, and not while the connection is full.</summary>
    private void GrantClosedStreams()
    {
        var batch = Math.Max(1, _settings.MaxInboundBidirectionalStreams / 8);
        if (_closedRemoteStreams >= batch)
        {
            Ngtcp2.ngtcp2_conn_extend_max_streams_bidi(_conn, (nuint)_closedRemoteStreams);
            _closedRemoteStreams = 0;
        }
    }

    /// <summary>The connection closed: nothing is owed any more, and whoever waited for room goes on (to find it closed).</summary>
    private void ForgetOwed()
    {
        _owed = 0;
        _sendFull = false;
        _stallDeadline = 0;
        Release(ref _sendRoom);
    }
}
