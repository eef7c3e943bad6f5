using System.Net;
using System.Net.Sockets;
using System.Text;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>Datagrams in, and the work streams hand the connection: flushes, credit, shutdowns, new streams.</summary>
internal sealed unsafe partial class QuicConnection
{
    /// <summary>Whether the socket's read loop has this connection in its list to write after the datagrams it is reading.</summary>
    internal bool WritePending { get; set; }

    /// <summary>A datagram for this connection, from the socket's read loop, which calls <see cref="WriteAfterReading"/> next.</summary>
    internal void ReadDatagram(ReadOnlySpan<byte> datagram)
    {
        lock (_gate)
        {
            if (_closeInfo is not null)
            {
                return;
            }

            var path = _path;
            int rv;
            fixed (byte* p = datagram)
            {
                ngtcp2_pkt_info info = default;
                rv = Ngtcp2.ngtcp2_conn_read_pkt_versioned(_conn, &path, Ngtcp2.StructVersion, &info, p, (nuint)datagram.Length, QuicClock.Now(_time));
            }

            if (rv != 0)
            {
                Fail(rv);
                return;
            }

            _datagramsSinceWrite++;
        }
    }

    /// <summary>The kernel reported the peer's port unreachable: nothing listens there (any more).</summary>
    internal void OnPeerUnreachable()
    {
        lock (_gate)
        {
            CloseCore(new QuicCloseInfo(QuicCloseKind.Unreachable, 0, RemoteEndPoint.ToString()), null);
        }
    }

    /// <summary>Sends what the datagrams just read call for (acknowledgements, data they made room for) in one go.</summary>
    internal void WriteAfterReading()
    {
        lock (_gate)
        {
            if (_closeInfo is null)
            {
                var now = QuicClock.Now(_time);
                if (!_handshakeCompleted || _sendQueue.Count > 0 || _datagramsSinceWrite >= 2)
                {
                    WritePackets(now);
                }
                else
                {
                    // One datagram and nothing of ours waiting to go (a request, a response): what it calls for is an
                    // acknowledgement, which rides on the next packet this side sends (the response, the reader's
                    // credit) or leaves when the timer fires. An ACK-only packet now would be chased by another from
                    // the peer (see ArmTimer). A run of datagrams (a bulk transfer) is acknowledged at once.
                    ArmTimer(now);
                }
            }
        }
    }

    /// <summary>Sends what the connection has to send now (the first Initial of a client).</summary>
    internal void Kick()
    {
        lock (_gate)
        {
            if (_closeInfo is null)
            {
                WritePackets(QuicClock.Now(_time));
            }
        }
    }

    /// <summary>Puts a stream with data (or a FIN) to send in line and sends what flow control and congestion allow.</summary>
    internal void Flush(QuicStream stream)
    {
        lock (_gate)
        {
            if (_closeInfo is not null)
            {
                return;
            }

            QueueForSending(stream);
            WritePackets(QuicClock.Now(_time));
        }
    }

    /// <summary>
    /// Puts a stream in line and sends its data shortly, from the thread pool (this thread's own queue first): a
    /// writer that flushes and then ends the stream (a handler's last message, then the dispatcher's completion)
    /// sends the data and the FIN in one packet instead of two.
    /// </summary>
    internal void ScheduleFlush(QuicStream stream)
    {
        lock (_gate)
        {
            if (_closeInfo is not null)
            {
                return;
            }

            QueueForSending(stream);
            if (_flushScheduled)
            {
                return;
            }

            _flushScheduled = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(_scheduledFlush, preferLocal: true);
    }

    private void RunScheduledFlush()
    {
        lock (_gate)
        {
            _flushScheduled = false;
            if (_closeInfo is null)
            {
                WritePackets(QuicClock.Now(_time));
            }
        }
    }

    /// <summary>
    /// A reader consumed <paramref name="bytes"/>; <paramref name="streamCredit"/> is the stream's batch to return now
    /// (0: none yet). The connection's credit is batched across streams and returned with the gate only per batch.
    /// </summary>
    internal void CreditConsumed(long streamId, long bytes, long streamCredit)
    {
        var owed = Interlocked.Add(ref _connectionCreditOwed, bytes);
        if (streamCredit == 0 && owed < _connectionCreditBatch)
        {
            return;
        }

        lock (_gate)
        {
            if (_closeInfo is not null)
            {
                return;
            }

            var connectionCredit = Interlocked.Exchange(ref _connectionCreditOwed, 0);
            if (connectionCredit > 0)
            {
                Ngtcp2.ngtcp2_conn_extend_max_offset(_conn, (ulong)connectionCredit);
            }

            if (streamCredit > 0)
            {
                // A stream that has closed meanwhile is gone from ngtcp2 too; its credit no longer matters.
                Ngtcp2.ngtcp2_conn_extend_max_stream_offset(_conn, streamId, (ulong)streamCredit);
            }

            WritePackets(QuicClock.Now(_time));
        }
    }

    /// <summary>Resets the sending side and/or stops the receiving side of a stream with an application error code.</summary>
    internal void Shutdown(long streamId, ulong applicationErrorCode, bool write, bool read)
    {
        lock (_gate)
        {
            if (_closeInfo is not null)
            {
                return;
            }

            if (write)
            {
                Ngtcp2.ngtcp2_conn_shutdown_stream_write(_conn, streamId, applicationErrorCode);
            }

            if (read)
            {
                Ngtcp2.ngtcp2_conn_shutdown_stream_read(_conn, streamId, applicationErrorCode);
            }

            WritePackets(QuicClock.Now(_time));
        }
    }

    /// <summary>Bidirectional streams open on the connection, read without the gate (a hint for coalescing writes).</summary>
    internal int StreamCount => Volatile.Read(ref _streamCount);

    /// <summary>The gate every ngtcp2 call for this connection is made under; streams share it.</summary>
    internal object SyncRoot => _gate;

    /// <summary>Returns stream and connection credit from inside a callback (the gate is held; packets go out after it).</summary>
    internal void ReturnCreditInline(long streamId, long bytes)
    {
        Ngtcp2.ngtcp2_conn_extend_max_stream_offset(_conn, streamId, (ulong)bytes);
        Ngtcp2.ngtcp2_conn_extend_max_offset(_conn, (ulong)bytes);
    }

    /// <summary>Returns connection credit from inside a callback.</summary>
    internal void ReturnConnectionCreditInline(long bytes) => Ngtcp2.ngtcp2_conn_extend_max_offset(_conn, (ulong)bytes);

    /// <summary>
    /// A stream the peer opened has finished, making room for another (QUIC's MAX_STREAMS). Room is granted in
    /// batches of an eighth of the limit, so a run of small requests does not cost a MAX_STREAMS packet each, and the
    /// peer always has at least seven eighths of its streams to open; a full connection grants none until it has room
    /// (see <see cref="Owe"/>).
    /// </summary>
    private void RemoteBidirectionalStreamClosed()
    {
        _closedRemoteStreams++;
        if (!_sendFull)
        {
            GrantClosedStreams();
        }
    }

    private void QueueForSending(QuicStream stream)
    {
        if (!stream.Queued)
        {
            stream.Queued = true;
            _sendQueue.Enqueue(stream);
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_closeInfo is not null)
            {
                return;
            }

            _armedExpiry = ulong.MaxValue;
            var now = QuicClock.Now(_time);
            var rv = Ngtcp2.ngtcp2_conn_handle_expiry(_conn, now);
            if (rv != 0)
            {
                Fail(rv);
                return;
            }

            if (CloseIfStalled(now))
            {
                return;
            }

            WritePackets(now);
        }
    }

    private void HandshakeCompleted()
    {
        var selected = SelectedAlpn();
        if (!Offered(selected))
        {
            // The server's GnuTLS refuses a wrong ALPN; this catches a peer that offered none.
            _pendingFailure = $"the peer negotiated ALPN '{selected}' instead of one of {string.Join(", ", _settings.Alpns)}";
            throw new IOException(_pendingFailure);
        }

        Alpn = selected;

        _handshakeCompleted = true;
        _handshake.TrySetResult();
    }

    private bool Offered(string alpn)
    {
        foreach (var offered in _settings.Alpns)
        {
            if (offered == alpn)
            {
                return true;
            }
        }

        return false;
    }

    private string SelectedAlpn()
    {
        gnutls_datum_t datum;
        return _tls is not null && GnuTls.gnutls_alpn_get_selected_protocol(_tls.DangerousGetHandle(), &datum) == 0
            ? Encoding.ASCII.GetString(datum.data, (int)datum.size)
            : "";
    }

    private void RemoteStreamOpened(long streamId)
    {
        var bidirectional = (streamId & 0x2) == 0;
        var stream = new QuicStream(this, streamId, local: false, bidirectional, _settings.SendBufferBytes);
        _streams.Add(streamId, stream);
        if (bidirectional)
        {
            Interlocked.Increment(ref _streamCount);
        }

        _inbound.Writer.TryWrite(stream);
    }

    private sealed class ScheduledFlush(QuicConnection connection) : IThreadPoolWorkItem
    {
        public void Execute() => connection.RunScheduledFlush();
    }
}
