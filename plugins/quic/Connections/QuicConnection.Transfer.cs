using System.Net;
using System.Net.Sockets;
using System.Text;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>Packets in and out, timers, and how the connection ends.</summary>
internal sealed unsafe partial class QuicConnection
{
    private const int MaxVectors = 16;

    private static readonly TimeSpan MinimumTimerDelay = TimeSpan.FromMilliseconds(1);


    // The kernel takes at most 64 segments per UDP_SEGMENT send.
    private const int MaxSegments = 64;

    // A segmented send is one UDP datagram to the kernel, whose length field is 16 bits.
    private const int MaxBatchBytes = 60 * 1024;

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

        ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.RunScheduledFlush(), this, preferLocal: true);
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
    /// peer always has at least seven eighths of its streams to open.
    /// </summary>
    private void RemoteBidirectionalStreamClosed()
    {
        _closedRemoteStreams++;
        var batch = Math.Max(1, _settings.MaxInboundBidirectionalStreams / 8);
        if (_closedRemoteStreams >= batch)
        {
            Ngtcp2.ngtcp2_conn_extend_max_streams_bidi(_conn, (nuint)_closedRemoteStreams);
            _closedRemoteStreams = 0;
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

            WritePackets(now);
        }
    }

    /// <summary>
    /// Writes packets until ngtcp2 has nothing more to send or congestion control stops it, taking stream data from
    /// the streams in line in turn, so one large response does not hold back the small ones. Packets of one size are
    /// gathered back to back and leave in one system call (UDP segmentation offload); a shorter packet ends a batch.
    /// </summary>
    private void WritePackets(ulong now)
    {
        _datagramsSinceWrite = 0;
        // Until the handshake is done the peer's max_udp_payload_size is unknown, and with size shaping off ngtcp2
        // would fill Initial packets to the full size: a peer with a 1,452-byte receive buffer (quic-go's) drops them.
        var maxPacket = _handshakeCompleted ? _maxUdpPayloadSize : Math.Min(_maxUdpPayloadSize, Ngtcp2Constants.NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE);
        var vectors = stackalloc ngtcp2_vec[MaxVectors];
        var batch = 0;
        var segment = 0;
        var segments = 0;
        fixed (byte* buffer = _packetBuffer)
        {
            while (true)
            {
                if (batch > 0 && (batch + maxPacket > MaxBatchBytes || segments == MaxSegments))
                {
                    SendBatch(buffer, batch, segment);
                    batch = segments = 0;
                }

                QuicStream? stream = null;
                var count = 0;
                var flags = Ngtcp2Constants.NGTCP2_WRITE_STREAM_FLAG_MORE;
                long pending = 0;
                while (_sendQueue.TryPeek(out var candidate))
                {
                    if (candidate.TryGetPending(vectors, MaxVectors, out count, out pending, out var fin))
                    {
                        stream = candidate;
                        if (fin)
                        {
                            flags |= Ngtcp2Constants.NGTCP2_WRITE_STREAM_FLAG_FIN;
                        }

                        break;
                    }

                    _sendQueue.Dequeue();
                    candidate.Queued = false;
                }

                nint written;
                var n = Ngtcp2.ngtcp2_conn_writev_stream_versioned(
                    _conn, null, Ngtcp2.StructVersion, null, buffer + batch, (nuint)maxPacket, &written, flags, stream?.Id ?? -1, vectors, (nuint)count, now);
                if (n < 0)
                {
                    switch ((int)n)
                    {
                        case Ngtcp2Constants.NGTCP2_ERR_STREAM_DATA_BLOCKED:
                        case Ngtcp2Constants.NGTCP2_ERR_STREAM_SHUT_WR:
                        case Ngtcp2Constants.NGTCP2_ERR_STREAM_NOT_FOUND:
                            // Blocked streams come back through extend_max_stream_data; shut ones are done.
                            _sendQueue.Dequeue();
                            stream!.Queued = false;
                            continue;
                        case Ngtcp2Constants.NGTCP2_ERR_WRITE_MORE:
                            // The packet has room left: the next call (same buffer position) fills it from the next stream.
                            stream!.OnSent(written, pending, (flags & Ngtcp2Constants.NGTCP2_WRITE_STREAM_FLAG_FIN) != 0);
                            RotateIfDone(stream);
                            continue;
                        default:
                            SendBatch(buffer, batch, segment);
                            Fail((int)n);
                            return;
                    }
                }

                if (stream is not null && written >= 0)
                {
                    stream.OnSent(written, pending, (flags & Ngtcp2Constants.NGTCP2_WRITE_STREAM_FLAG_FIN) != 0);
                    RotateIfDone(stream);
                }

                if (n == 0)
                {
                    break;
                }

                var size = (int)n;
                if (batch == 0)
                {
                    segment = size;
                    batch = size;
                    segments = 1;
                }
                else if (size == segment)
                {
                    batch += size;
                    segments++;
                }
                else if (size < segment)
                {
                    // A shorter packet may end a batch, never sit inside one.
                    batch += size;
                    SendBatch(buffer, batch, segment);
                    batch = segments = 0;
                }
                else
                {
                    // A larger packet starts a batch of its own.
                    SendBatch(buffer, batch, segment);
                    Buffer.MemoryCopy(buffer + batch, buffer, _packetBuffer.Length, size);
                    batch = segment = size;
                    segments = 1;
                }

                if (stream is not null && _sendQueue.Count > 1 && _sendQueue.Peek() == stream)
                {
                    // Round robin between streams, a packet at a time.
                    _sendQueue.Enqueue(_sendQueue.Dequeue());
                }
            }

            SendBatch(buffer, batch, segment);
        }

        ArmTimer(now);
    }

    private void SendBatch(byte* buffer, int length, int segment)
    {
        if (length > 0)
        {
            _socket.SendBatch(buffer, length, segment, _remoteAddress, _remoteSocketAddress.Size, _remoteSocketAddress);
        }
    }

    private void RotateIfDone(QuicStream stream)
    {
        if (!stream.HasPending && _sendQueue.TryPeek(out var head) && head == stream)
        {
            _sendQueue.Dequeue();
            stream.Queued = false;
        }
    }

    private void ArmTimer(ulong now)
    {
        if (_closeInfo is not null)
        {
            return;
        }

        // A timer already set to fire no later than needed stays as it is: firing early costs one handle_expiry that
        // finds nothing due (and re-arms), while moving it costs the runtime's timer lock on every packet.
        var expiry = Ngtcp2.ngtcp2_conn_get_expiry(_conn);
        if (expiry >= _armedExpiry)
        {
            return;
        }

        _armedExpiry = expiry;

        // Never sooner than QUIC's timer granularity (1 ms, RFC 9002 §6.1.2). ngtcp2 0.12 delays an ACK by only an
        // eighth of the round trip (microseconds on a LAN), so without the floor every request and response would be
        // chased by an ACK-only packet instead of the ACK riding on the next packet either way, and each such packet
        // makes the peer acknowledge its next packet at once (ngtcp2 treats the gap in numbers as reordering).
        var delay = expiry > now ? TimeSpan.FromTicks((long)((expiry - now + 99) / 100)) : TimeSpan.Zero;
        if (delay < MinimumTimerDelay)
        {
            delay = MinimumTimerDelay;
        }
        _timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private void HandshakeCompleted()
    {
        var selected = SelectedAlpn();
        if (selected != _settings.Alpn)
        {
            // The server's GnuTLS refuses a wrong ALPN; this catches a peer that offered none.
            _pendingFailure = $"the peer negotiated ALPN '{selected}' instead of {_settings.Alpn}";
            throw new IOException(_pendingFailure);
        }

        _handshakeCompleted = true;
        _handshake.TrySetResult();
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

    /// <summary>Turns an ngtcp2 error from reading, writing or a timer into the connection's end, sending CONNECTION_CLOSE where one is due.</summary>
    private void Fail(int error)
    {
        ngtcp2_connection_close_error close;
        switch (error)
        {
            case Ngtcp2Constants.NGTCP2_ERR_DRAINING:
            case Ngtcp2Constants.NGTCP2_ERR_CLOSING:
            {
                ngtcp2_connection_close_error peer;
                Ngtcp2.ngtcp2_conn_get_connection_close_error(_conn, &peer);
                var reason = peer.reason == null || peer.reasonlen == 0 ? "" : Encoding.UTF8.GetString(peer.reason, (int)peer.reasonlen);
                var kind = peer.type == Ngtcp2Constants.NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION ? QuicCloseKind.PeerApplication : QuicCloseKind.PeerTransport;
                CloseCore(new QuicCloseInfo(kind, peer.error_code, reason), null);
                return;
            }

            case Ngtcp2Constants.NGTCP2_ERR_IDLE_CLOSE:
                CloseCore(new QuicCloseInfo(QuicCloseKind.IdleTimeout, 0, $"{_settings.IdleTimeout.TotalSeconds:0.#} s"), null);
                return;
            case Ngtcp2Constants.NGTCP2_ERR_HANDSHAKE_TIMEOUT:
                CloseCore(new QuicCloseInfo(QuicCloseKind.HandshakeTimeout, 0, $"{_settings.HandshakeTimeout.TotalSeconds:0.#} s"), null);
                return;
            case Ngtcp2Constants.NGTCP2_ERR_DROP_CONN:
                CloseCore(new QuicCloseInfo(QuicCloseKind.Protocol, 0, "ngtcp2 dropped the connection"), null);
                return;
            case Ngtcp2Constants.NGTCP2_ERR_CRYPTO:
            {
                var alert = Ngtcp2.ngtcp2_conn_get_tls_alert(_conn);
                var reason = (_tls is null ? null : QuicTlsCredentials.DescribeVerificationFailure(_tls, _serverName))
                    ?? $"the TLS handshake failed ({TlsAlerts.Describe(alert)})";
                Ngtcp2.ngtcp2_connection_close_error_set_transport_error_tls_alert(&close, alert, null, 0);
                CloseCore(new QuicCloseInfo(QuicCloseKind.Tls, 0x100UL + alert, reason), &close);
                return;
            }

            default:
                Ngtcp2.ngtcp2_connection_close_error_set_transport_error_liberr(&close, error, null, 0);
                CloseCore(new QuicCloseInfo(_pendingFailure is null ? QuicCloseKind.Protocol : QuicCloseKind.Tls, 0, _pendingFailure ?? Ngtcp2.ErrorText(error)), &close);
                return;
        }
    }

    /// <summary>Ends the connection once: sends CONNECTION_CLOSE when given one, fails streams and waiters, frees native state.</summary>
    private void CloseCore(QuicCloseInfo info, ngtcp2_connection_close_error* close)
    {
        if (_closeInfo is not null)
        {
            return;
        }

        _closeInfo = info;
        if (close != null && _conn != 0 && Ngtcp2.ngtcp2_conn_is_in_closing_period(_conn) == 0 && Ngtcp2.ngtcp2_conn_is_in_draining_period(_conn) == 0)
        {
            fixed (byte* buffer = _packetBuffer)
            {
                var n = Ngtcp2.ngtcp2_conn_write_connection_close_versioned(
                    _conn, null, Ngtcp2.StructVersion, null, buffer, (nuint)_maxUdpPayloadSize, close, QuicClock.Now(_time));
                if (n > 0)
                {
                    _socket.Send(new ReadOnlySpan<byte>(buffer, (int)n), _remoteSocketAddress);
                }
            }
        }

        if (info.Kind is not (QuicCloseKind.Local or QuicCloseKind.Disposed) && !(info.Kind == QuicCloseKind.PeerApplication && info.ErrorCode == 0))
        {
            QuicEngineLog.ConnectionClosed(_logger, RemoteEndPoint, info.Describe());
        }

        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var exception = new QuicConnectionClosedException(info);
        foreach (var stream in _streams.Values)
        {
            stream.OnConnectionClosed(exception);
        }

        _streams.Clear();
        Volatile.Write(ref _streamCount, 0);
        _sendQueue.Clear();
        foreach (var id in _connectionIds)
        {
            _socket.Unregister(id, this);
        }

        _connectionIds.Clear();
        _inbound.Writer.TryComplete();
        _bidiCredit?.TrySetResult();
        _uniCredit?.TrySetResult();
        FreeNative();
        _credentials = null;
        _handshake.TrySetException(exception);
        _ = _handshake.Task.Exception;
        _closed.TrySetResult(info);
        if (_ownsSocket)
        {
            // A client's socket serves only this connection.
            _ = _socket.DisposeAsync().AsTask();
        }
    }

    /// <summary>Whether the handshake has completed.</summary>
    internal bool IsEstablished => _handshakeCompleted && _closeInfo is null;

    /// <summary>The remote address as the socket reports it, for logs.</summary>
    internal EndPoint Peer => RemoteEndPoint;
}
