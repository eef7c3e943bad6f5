using System.Net;
using System.Net.Sockets;
using System.Text;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>Writing packets: streams in turn, packets of one size batched into one system call, and the connection's timer.</summary>
internal sealed unsafe partial class QuicConnection
{
    private const int MaxVectors = 16;

    private static readonly TimeSpan MinimumTimerDelay = TimeSpan.FromMilliseconds(1);


    // The kernel takes at most 64 segments per UDP_SEGMENT send.
    private const int MaxSegments = 64;

    // A segmented send is one UDP datagram to the kernel, whose length field is 16 bits.
    private const int MaxBatchBytes = 60 * 1024;

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
        if (_stallDeadline != 0 && _stallDeadline < expiry)
        {
            // A full connection's stall deadline shares the timer; firing at it costs one handle_expiry that finds
            // nothing due.
            expiry = _stallDeadline;
        }

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
}
