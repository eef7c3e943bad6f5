using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Connections;

internal sealed partial class QuicConnection
{
    private static readonly Lazy<nint> CryptoLibrary = new(() => NativeLibrary.Load(Ngtcp2CryptoGnuTls.Library, typeof(QuicConnection).Assembly, null));

    private unsafe void InitializeClient(QuicTlsCredentials tls)
    {
        var scidBytes = NewConnectionId();
        var dcidBytes = NewConnectionId();
        ngtcp2_cid scid = default, dcid = default;
        SetCid(&scid, scidBytes);
        SetCid(&dcid, dcidBytes);

        var callbacks = CreateCallbacks(server: false);
        var settings = CreateSettings();
        var parameters = CreateTransportParameters();

        var path = _path;
        nint conn;
        var rv = Ngtcp2.ngtcp2_conn_client_new_versioned(
            &conn, &dcid, &scid, &path, Ngtcp2Constants.NGTCP2_PROTO_VER_V1,
            Ngtcp2.StructVersion, &callbacks, Ngtcp2.StructVersion, &settings, Ngtcp2.StructVersion, &parameters, 0, GCHandle.ToIntPtr(_self));
        if (rv != 0)
        {
            throw new IOException($"ngtcp2_conn_client_new failed: {Ngtcp2.ErrorText(rv)}");
        }

        _connection = Ngtcp2ConnectionHandle.Own(conn);
        _conn = conn;
        RegisterConnectionId(scidBytes);
        _credentials = tls;
        _tls = tls.CreateSession((nint)_connectionReference, _settings.Alpns, _serverName);
        Ngtcp2.ngtcp2_conn_set_tls_native_handle(_conn, _tls.DangerousGetHandle());
        ApplyKeepAlive();
    }

    private unsafe void InitializeServer(in ngtcp2_pkt_hd header, QuicTlsCredentials tls)
    {
        var scidBytes = NewConnectionId();
        ngtcp2_cid scid = default;
        SetCid(&scid, scidBytes);

        var callbacks = CreateCallbacks(server: true);
        var settings = CreateSettings();
        var parameters = CreateTransportParameters();
        parameters.original_dcid = header.dcid;
        parameters.stateless_reset_token_present = 1;
        RandomNumberGenerator.Fill(new Span<byte>(parameters.stateless_reset_token, Ngtcp2Constants.NGTCP2_STATELESS_RESET_TOKENLEN));

        var clientScid = header.scid;
        var path = _path;
        nint conn;
        var rv = Ngtcp2.ngtcp2_conn_server_new_versioned(
            &conn, &clientScid, &scid, &path, header.version,
            Ngtcp2.StructVersion, &callbacks, Ngtcp2.StructVersion, &settings, Ngtcp2.StructVersion, &parameters, 0, GCHandle.ToIntPtr(_self));
        if (rv != 0)
        {
            throw new IOException($"ngtcp2_conn_server_new failed: {Ngtcp2.ErrorText(rv)}");
        }

        _connection = Ngtcp2ConnectionHandle.Own(conn);
        _conn = conn;
        RegisterConnectionId(scidBytes);

        // The client keeps using the id it chose for its Initial packets until it learns ours.
        var original = new byte[(int)header.dcid.datalen];
        fixed (byte* d = header.dcid.data)
        {
            new ReadOnlySpan<byte>(d, original.Length).CopyTo(original);
        }

        RegisterConnectionId(original);
        _credentials = tls;
        _tls = tls.CreateSession((nint)_connectionReference, _settings.Alpns, serverName: null);
        Ngtcp2.ngtcp2_conn_set_tls_native_handle(_conn, _tls.DangerousGetHandle());
        ApplyKeepAlive();
    }

    private void ApplyKeepAlive()
    {
        if (_settings.KeepAliveInterval > TimeSpan.Zero)
        {
            Ngtcp2.ngtcp2_conn_set_keep_alive_timeout(_conn, QuicClock.ToNanoseconds(_settings.KeepAliveInterval));
        }
    }

    private unsafe ngtcp2_settings CreateSettings()
    {
        ngtcp2_settings settings;
        Ngtcp2.ngtcp2_settings_default_versioned(Ngtcp2.StructVersion, &settings);
        settings.initial_ts = QuicClock.Now(_time);
        settings.handshake_timeout = QuicClock.ToNanoseconds(_settings.HandshakeTimeout);
        settings.max_tx_udp_payload_size = (nuint)_maxUdpPayloadSize;
        if (_maxUdpPayloadSize > Ngtcp2Constants.NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE)
        {
            // Past what path MTU discovery probes for (1452), a configured size is taken as known to fit the path
            // (loopback, jumbo frames) and used from the start.
            settings.no_tx_udp_payload_size_shaping = 1;
        }
        settings.max_window = (ulong)_settings.ConnectionWindowBytes;
        settings.max_stream_window = (ulong)_settings.StreamWindowBytes;
        settings.ack_thresh = 10;
        return settings;
    }

    private unsafe ngtcp2_transport_params CreateTransportParameters()
    {
        ngtcp2_transport_params parameters;
        Ngtcp2.ngtcp2_transport_params_default_versioned(Ngtcp2.StructVersion, &parameters);
        var window = (ulong)_settings.StreamWindowBytes;
        parameters.initial_max_stream_data_bidi_local = window;
        parameters.initial_max_stream_data_bidi_remote = window;
        parameters.initial_max_stream_data_uni = window;
        parameters.initial_max_data = (ulong)_settings.ConnectionWindowBytes;
        parameters.initial_max_streams_bidi = (ulong)_settings.MaxInboundBidirectionalStreams;
        parameters.initial_max_streams_uni = (ulong)_settings.MaxInboundUnidirectionalStreams;
        parameters.max_idle_timeout = QuicClock.ToNanoseconds(_settings.IdleTimeout);
        parameters.disable_active_migration = 1;
        return parameters;
    }

    private unsafe static ngtcp2_callbacks CreateCallbacks(bool server)
    {
        var crypto = CryptoLibrary.Value;
        nint Export(string name) => NativeLibrary.GetExport(crypto, name);

        ngtcp2_callbacks callbacks = default;
        if (server)
        {
            callbacks.recv_client_initial = Export("ngtcp2_crypto_recv_client_initial_cb");
        }
        else
        {
            callbacks.client_initial = Export("ngtcp2_crypto_client_initial_cb");
            callbacks.recv_retry = Export("ngtcp2_crypto_recv_retry_cb");
        }

        callbacks.recv_crypto_data = Export("ngtcp2_crypto_recv_crypto_data_cb");
        callbacks.encrypt = Export("ngtcp2_crypto_encrypt_cb");
        callbacks.decrypt = Export("ngtcp2_crypto_decrypt_cb");
        callbacks.hp_mask = Export("ngtcp2_crypto_hp_mask_cb");
        callbacks.update_key = Export("ngtcp2_crypto_update_key_cb");
        callbacks.delete_crypto_aead_ctx = Export("ngtcp2_crypto_delete_crypto_aead_ctx_cb");
        callbacks.delete_crypto_cipher_ctx = Export("ngtcp2_crypto_delete_crypto_cipher_ctx_cb");
        callbacks.get_path_challenge_data = Export("ngtcp2_crypto_get_path_challenge_data_cb");
        callbacks.version_negotiation = Export("ngtcp2_crypto_version_negotiation_cb");

        callbacks.handshake_completed = (nint)(delegate* unmanaged<nint, nint, int>)&OnHandshakeCompleted;
        callbacks.recv_stream_data = (nint)(delegate* unmanaged<nint, uint, long, ulong, byte*, nuint, nint, nint, int>)&OnReceiveStreamData;
        callbacks.acked_stream_data_offset = (nint)(delegate* unmanaged<nint, long, ulong, ulong, nint, nint, int>)&OnAckedStreamDataOffset;
        callbacks.stream_open = (nint)(delegate* unmanaged<nint, long, nint, int>)&OnStreamOpen;
        callbacks.stream_close = (nint)(delegate* unmanaged<nint, uint, long, ulong, nint, nint, int>)&OnStreamClose;
        callbacks.stream_reset = (nint)(delegate* unmanaged<nint, long, ulong, ulong, nint, nint, int>)&OnStreamReset;
        callbacks.stream_stop_sending = (nint)(delegate* unmanaged<nint, long, ulong, nint, nint, int>)&OnStreamStopSending;
        callbacks.extend_max_local_streams_bidi = (nint)(delegate* unmanaged<nint, ulong, nint, int>)&OnExtendMaxLocalStreamsBidi;
        callbacks.extend_max_local_streams_uni = (nint)(delegate* unmanaged<nint, ulong, nint, int>)&OnExtendMaxLocalStreamsUni;
        callbacks.extend_max_stream_data = (nint)(delegate* unmanaged<nint, long, ulong, nint, nint, int>)&OnExtendMaxStreamData;
        callbacks.rand = (nint)(delegate* unmanaged<byte*, nuint, nint, void>)&OnRand;
        callbacks.get_new_connection_id = (nint)(delegate* unmanaged<nint, ngtcp2_cid*, byte*, nuint, nint, int>)&OnGetNewConnectionId;
        callbacks.remove_connection_id = (nint)(delegate* unmanaged<nint, ngtcp2_cid*, nint, int>)&OnRemoveConnectionId;
        return callbacks;
    }

    private unsafe static void SetCid(ngtcp2_cid* cid, ReadOnlySpan<byte> bytes)
    {
        cid->datalen = (nuint)bytes.Length;
        bytes.CopyTo(new Span<byte>(cid->data, Ngtcp2Constants.NGTCP2_MAX_CIDLEN));
    }
}
