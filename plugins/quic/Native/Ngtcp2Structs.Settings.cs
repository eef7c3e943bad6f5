// Blittable mirrors of the ngtcp2 0.12.1 settings, transport parameter, statistics and close-error
// structs; see Ngtcp2Structs.cs for the naming and type conventions. Gaps the C compiler leaves for
// alignment are left to LayoutKind.Sequential, which pads exactly like the x86-64 SysV C ABI; the
// layout test checks every offset.

using System.Runtime.InteropServices;

#pragma warning disable IDE1006 // Names mirror the C headers; the layout test matches them by name.

namespace Plexus.Transport.Quic.Native;

/// <summary><c>ngtcp2_qlog_settings</c>: where qlog output goes (write == 0 disables qlog). 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ngtcp2_qlog_settings
{
    public ngtcp2_cid odcid;
    /// <summary><c>void (*)(void *user_data, uint32_t flags, const void *data, size_t datalen)</c></summary>
    public nint write;
}

/// <summary>
/// <c>ngtcp2_settings</c> (NGTCP2_SETTINGS_VERSION 1): per-connection settings. 184 bytes.
/// Initialise with ngtcp2_settings_default before changing fields.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_settings
{
    public ngtcp2_qlog_settings qlog;
    /// <summary><c>ngtcp2_cc_algo</c>, one of the NGTCP2_CC_ALGO_* constants.</summary>
    public int cc_algo;
    // 4 bytes of padding.
    public ulong initial_ts;
    public ulong initial_rtt;
    /// <summary><c>void (*)(void *user_data, const char *format, ...)</c>: variadic, so not callable from C#; leave 0.</summary>
    public nint log_printf;
    public nuint max_tx_udp_payload_size;
    public ngtcp2_vec token;
    public ngtcp2_rand_ctx rand_ctx;
    public ulong max_window;
    public ulong max_stream_window;
    public nuint ack_thresh;
    public int no_tx_udp_payload_size_shaping;
    // 4 bytes of padding.
    public ulong handshake_timeout;
    public uint* preferred_versions;
    public nuint preferred_versionslen;
    public uint* other_versions;
    public nuint other_versionslen;
    public uint original_version;
    public int no_pmtud;
}

/// <summary><c>ngtcp2_preferred_addr</c>: the preferred_address transport parameter. 96 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_preferred_addr
{
    public ngtcp2_cid cid;
    public ngtcp2_sockaddr_in ipv4;
    public ngtcp2_sockaddr_in6 ipv6;
    public byte ipv4_present;
    public byte ipv6_present;
    public fixed byte stateless_reset_token[Ngtcp2Constants.NGTCP2_STATELESS_RESET_TOKENLEN];
    // 2 bytes of trailing padding (8-byte alignment from ngtcp2_cid).
}

/// <summary><c>ngtcp2_version_info</c>: the version_information transport parameter. 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_version_info
{
    public uint chosen_version;
    /// <summary>Network-byte-order list of 32-bit versions: a uint8_t* in 0.12.1, hence byte*.</summary>
    public byte* other_versions;
    public nuint other_versionslen;
}

/// <summary>
/// <c>ngtcp2_transport_params</c> (NGTCP2_TRANSPORT_PARAMS_VERSION 1): QUIC transport parameters.
/// 344 bytes. Initialise with ngtcp2_transport_params_default before changing fields.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_transport_params
{
    public ngtcp2_preferred_addr preferred_address;
    public ngtcp2_cid original_dcid;
    public ngtcp2_cid initial_scid;
    public ngtcp2_cid retry_scid;
    public ulong initial_max_stream_data_bidi_local;
    public ulong initial_max_stream_data_bidi_remote;
    public ulong initial_max_stream_data_uni;
    public ulong initial_max_data;
    public ulong initial_max_streams_bidi;
    public ulong initial_max_streams_uni;
    /// <summary><c>ngtcp2_duration</c> in nanoseconds.</summary>
    public ulong max_idle_timeout;
    public ulong max_udp_payload_size;
    public ulong active_connection_id_limit;
    public ulong ack_delay_exponent;
    /// <summary><c>ngtcp2_duration</c> in nanoseconds.</summary>
    public ulong max_ack_delay;
    public ulong max_datagram_frame_size;
    public byte stateless_reset_token_present;
    public byte disable_active_migration;
    public byte retry_scid_present;
    public byte preferred_address_present;
    public fixed byte stateless_reset_token[Ngtcp2Constants.NGTCP2_STATELESS_RESET_TOKENLEN];
    public byte grease_quic_bit;
    // 3 bytes of padding.
    public ngtcp2_version_info version_info;
    public byte version_info_present;
    // 7 bytes of trailing padding.
}

/// <summary><c>ngtcp2_conn_stat</c> (NGTCP2_CONN_STAT_VERSION 1): RTT and congestion state. 176 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_conn_stat
{
    public ulong latest_rtt;
    public ulong min_rtt;
    public ulong smoothed_rtt;
    public ulong rttvar;
    public ulong initial_rtt;
    public ulong first_rtt_sample_ts;
    public nuint pto_count;
    public ulong loss_detection_timer;
    /// <summary>One per packet number space (NGTCP2_PKTNS_ID_MAX).</summary>
    public fixed ulong last_tx_pkt_ts[Ngtcp2Constants.NGTCP2_PKTNS_ID_MAX];
    /// <summary>One per packet number space (NGTCP2_PKTNS_ID_MAX).</summary>
    public fixed ulong loss_time[Ngtcp2Constants.NGTCP2_PKTNS_ID_MAX];
    public ulong cwnd;
    public ulong ssthresh;
    public ulong congestion_recovery_start_ts;
    public ulong bytes_in_flight;
    public nuint max_tx_udp_payload_size;
    public ulong delivery_rate_sec;
    public double pacing_rate;
    public nuint send_quantum;
}

/// <summary><c>ngtcp2_connection_close_error</c>: what to put in a CONNECTION_CLOSE frame, or what the peer sent. 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_connection_close_error
{
    /// <summary><c>ngtcp2_connection_close_error_code_type</c>, one of NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_*.</summary>
    public int type;
    // 4 bytes of padding.
    public ulong error_code;
    public ulong frame_type;
    public byte* reason;
    public nuint reasonlen;
}
