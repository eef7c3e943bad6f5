using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// ngtcp2's callbacks into managed code. They run inside an ngtcp2 call made under the connection's gate, so they
/// touch the connection's state directly. None lets an exception escape into native code: a failure is logged and
/// reported to ngtcp2 as <c>NGTCP2_ERR_CALLBACK_FAILURE</c>, which fails the call that ran it.
/// </summary>
internal sealed partial class QuicConnection
{
    private static unsafe QuicConnection? From(nint userData) => userData == 0 ? null : GCHandle.FromIntPtr(userData).Target as QuicConnection;

    [UnmanagedCallersOnly]
    private static unsafe nint GetConnection(ngtcp2_crypto_conn_ref* reference)
    {
        try
        {
            return From((nint)reference->user_data)?._conn ?? 0;
        }
        catch
        {
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe void OnRand(byte* destination, nuint length, nint context)
    {
        try
        {
            RandomNumberGenerator.Fill(new Span<byte>(destination, (int)length));
        }
        catch
        {
            // RandomNumberGenerator does not fail on this platform; the catch only keeps the native boundary closed.
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnGetNewConnectionId(nint conn, ngtcp2_cid* cid, byte* token, nuint length, nint userData)
    {
        try
        {
            var connection = From(userData);
            if (connection is null)
            {
                return Ngtcp2Constants.NGTCP2_ERR_CALLBACK_FAILURE;
            }

            var id = new byte[(int)length];
            RandomNumberGenerator.Fill(id);
            SetCid(cid, id);
            RandomNumberGenerator.Fill(new Span<byte>(token, Ngtcp2Constants.NGTCP2_STATELESS_RESET_TOKENLEN));
            connection.RegisterConnectionId(id);
            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnRemoveConnectionId(nint conn, ngtcp2_cid* cid, nint userData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null)
            {
                var id = new ReadOnlySpan<byte>(cid->data, (int)cid->datalen);
                connection._socket.Unregister(id, connection);
                for (var i = connection._connectionIds.Count - 1; i >= 0; i--)
                {
                    if (id.SequenceEqual(connection._connectionIds[i]))
                    {
                        connection._connectionIds.RemoveAt(i);
                    }
                }
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnHandshakeCompleted(nint conn, nint userData)
    {
        try
        {
            From(userData)?.HandshakeCompleted();
            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnStreamOpen(nint conn, long streamId, nint userData)
    {
        try
        {
            From(userData)?.RemoteStreamOpened(streamId);
            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnReceiveStreamData(nint conn, uint flags, long streamId, ulong offset, byte* data, nuint length, nint userData, nint streamUserData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null && connection._streams.TryGetValue(streamId, out var stream))
            {
                stream.OnReceived(new ReadOnlySpan<byte>(data, (int)length), (flags & Ngtcp2Constants.NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
            }
            else if (connection is not null)
            {
                // Data for a stream this side has let go of: give its credit straight back.
                Ngtcp2.ngtcp2_conn_extend_max_stream_offset(conn, streamId, length);
                Ngtcp2.ngtcp2_conn_extend_max_offset(conn, length);
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnAckedStreamDataOffset(nint conn, long streamId, ulong offset, ulong length, nint userData, nint streamUserData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null && connection._streams.TryGetValue(streamId, out var stream))
            {
                stream.OnAcknowledged((long)(offset + length));
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnStreamClose(nint conn, uint flags, long streamId, ulong applicationErrorCode, nint userData, nint streamUserData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null && connection._streams.Remove(streamId, out var stream))
            {
                if (stream.IsBidirectional)
                {
                    Interlocked.Decrement(ref connection._streamCount);
                }

                stream.OnClosed(applicationErrorCode);
                if (!stream.IsLocal && stream.IsBidirectional)
                {
                    connection.RemoteBidirectionalStreamClosed();
                }
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnStreamReset(nint conn, long streamId, ulong finalSize, ulong applicationErrorCode, nint userData, nint streamUserData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null && connection._streams.TryGetValue(streamId, out var stream))
            {
                stream.OnPeerReset(applicationErrorCode);
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnStreamStopSending(nint conn, long streamId, ulong applicationErrorCode, nint userData, nint streamUserData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null && connection._streams.TryGetValue(streamId, out var stream))
            {
                stream.OnPeerStopSending(applicationErrorCode);
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnExtendMaxLocalStreamsBidi(nint conn, ulong maxStreams, nint userData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null)
            {
                Release(ref connection._bidiCredit);
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnExtendMaxLocalStreamsUni(nint conn, ulong maxStreams, nint userData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null)
            {
                Release(ref connection._uniCredit);
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnExtendMaxStreamData(nint conn, long streamId, ulong maxData, nint userData, nint streamUserData)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null && connection._streams.TryGetValue(streamId, out var stream))
            {
                connection.QueueForSending(stream);
            }

            return 0;
        }
        catch (Exception exception)
        {
            return Failed(userData, exception);
        }
    }

    private static unsafe void Release(ref TaskCompletionSource? waiters)
    {
        var released = waiters;
        waiters = null;
        released?.TrySetResult();
    }

    private static unsafe int Failed(nint userData, Exception exception)
    {
        try
        {
            var connection = From(userData);
            if (connection is not null)
            {
                QuicEngineLog.CallbackFailed(connection._logger, connection.RemoteEndPoint, exception);
            }
        }
        catch
        {
            // Logging failed too; the error code below still fails the connection cleanly.
        }

        return Ngtcp2Constants.NGTCP2_ERR_CALLBACK_FAILURE;
    }
}
