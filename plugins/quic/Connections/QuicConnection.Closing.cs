using System.Net;
using System.Net.Sockets;
using System.Text;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>How a connection ends: ngtcp2's errors turned into a close reason, and the close itself.</summary>
internal sealed unsafe partial class QuicConnection
{
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
                var reason = (_tls is null ? null : _credentials?.DescribeRefusal(_tls, _serverName, alert) ?? QuicTlsCredentials.DescribeVerificationFailure(_tls, _serverName))
                    ?? $"the TLS handshake failed ({TlsAlerts.Describe(alert)})";

                // A cluster server tells a refused client why in the close's reason phrase (a TLS alert carries no
                // text): it learns it is no member rather than only "bad certificate". Other modes say nothing more.
                var told = _credentials is { Cluster: not null, IsServer: true } && reason.StartsWith(QuicTlsCredentials.NotMember, StringComparison.Ordinal)
                    ? Encoding.UTF8.GetBytes(string.Concat("this node has no certificate from the cluster CA: ", reason.AsSpan(QuicTlsCredentials.NotMember.Length, Math.Min(600, reason.Length - QuicTlsCredentials.NotMember.Length))))
                    : [];
                fixed (byte* phrase = told)
                {
                    Ngtcp2.ngtcp2_connection_close_error_set_transport_error_tls_alert(&close, alert, told.Length == 0 ? null : phrase, (nuint)told.Length);
                    CloseCore(new QuicCloseInfo(QuicCloseKind.Tls, 0x100UL + alert, reason), &close);
                }

                return;
            }

            default:
                Ngtcp2.ngtcp2_connection_close_error_set_transport_error_liberr(&close, error, null, 0);
                CloseCore(new QuicCloseInfo(_pendingFailure is null ? QuicCloseKind.Protocol : QuicCloseKind.Tls, 0, _pendingFailure ?? Ngtcp2.ErrorText(error)), &close);
                return;
        }
    }

    /// <summary>Under the gate: <see cref="Close"/>.</summary>
    private void CloseLocked(ulong applicationErrorCode, string reason)
    {
        if (_closeInfo is not null)
        {
            return;
        }

        if (_conn != 0 && _handshakeCompleted && _sendQueue.Count > 0)
        {
            // Data already handed over (a last response, its FIN, perhaps waiting for a scheduled flush) leaves
            // before the close, so a peer that reads in order still gets it.
            WritePackets(QuicClock.Now(_time));
            if (_closeInfo is not null)
            {
                return;
            }
        }

        var info = new QuicCloseInfo(QuicCloseKind.Local, applicationErrorCode, reason);
        ngtcp2_connection_close_error error;
        var bytes = Encoding.UTF8.GetBytes(reason.Length > 200 ? reason[..200] : reason);
        fixed (byte* r = bytes)
        {
            Ngtcp2.ngtcp2_connection_close_error_set_application_error(&error, applicationErrorCode, r, (nuint)bytes.Length);
            CloseCore(info, &error);
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
        ForgetOwed();
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
}
