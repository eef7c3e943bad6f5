// C constants of the ngtcp2 0.12.1 API (ngtcp2.h, version.h). Each name is exactly the C macro or
// enumerator name and each type is the C expression's type mapped to C# (int, unsigned int -> uint,
// ngtcp2_duration / uint64_t / unsigned long long -> ulong; enumerators are int), so the layout test
// can compare value, size and signedness with what the C compiler computes. Every constant here must
// be printed by tests/Plexus.Transport.Quic.Tests/Native/layouts.c; the test fails otherwise.

#pragma warning disable IDE1006 // Names mirror the C headers; the layout test matches them by name.

namespace Plexus.Transport.Quic.Native;

internal static class Ngtcp2Constants
{
    // Library version (version.h) and struct versions passed to the versioned entry points.
    public const int NGTCP2_VERSION_NUM = 0x000c01;
    public const int NGTCP2_VERSION_AGE = 1;
    public const int NGTCP2_SETTINGS_VERSION = 1;
    public const int NGTCP2_TRANSPORT_PARAMS_VERSION = 1;
    public const int NGTCP2_CALLBACKS_VERSION = 1;
    public const int NGTCP2_PKT_INFO_VERSION = 1;
    public const int NGTCP2_CONN_STAT_VERSION = 1;

    // Time: ngtcp2_tstamp and ngtcp2_duration count nanoseconds.
    public const ulong NGTCP2_SECONDS = 1000000000UL;
    public const ulong NGTCP2_MILLISECONDS = 1000000UL;
    public const ulong NGTCP2_MICROSECONDS = 1000UL;
    public const ulong NGTCP2_NANOSECONDS = 1UL;
    public const ulong NGTCP2_DEFAULT_INITIAL_RTT = 333 * NGTCP2_MILLISECONDS;
    public const ulong NGTCP2_DEFAULT_HANDSHAKE_TIMEOUT = 10 * NGTCP2_SECONDS;
    public const ulong NGTCP2_DEFAULT_MAX_ACK_DELAY = 25 * NGTCP2_MILLISECONDS;

    // QUIC versions.
    public const uint NGTCP2_PROTO_VER_V1 = 0x00000001u;
    public const uint NGTCP2_PROTO_VER_V2_DRAFT = 0x709a50c4u;
    public const uint NGTCP2_PROTO_VER_MAX = NGTCP2_PROTO_VER_V1;
    public const uint NGTCP2_PROTO_VER_MIN = 0xff00001du;

    // Sizes and limits.
    public const int NGTCP2_MAX_UDP_PAYLOAD_SIZE = 1200;
    public const int NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE = 1452;
    public const int NGTCP2_DEFAULT_MAX_RECV_UDP_PAYLOAD_SIZE = 65527;
    public const ulong NGTCP2_MAX_VARINT = (1UL << 62) - 1;
    public const int NGTCP2_STATELESS_RESET_TOKENLEN = 16;
    public const int NGTCP2_MIN_STATELESS_RESET_RANDLEN = 5;
    public const int NGTCP2_PATH_CHALLENGE_DATALEN = 8;
    public const int NGTCP2_MAX_CIDLEN = 20;
    public const int NGTCP2_MIN_CIDLEN = 1;
    public const int NGTCP2_MIN_INITIAL_DCIDLEN = 8;

    // Transport parameter defaults.
    public const int NGTCP2_DEFAULT_ACK_DELAY_EXPONENT = 3;
    public const int NGTCP2_DEFAULT_ACTIVE_CONNECTION_ID_LIMIT = 2;
    public const uint NGTCP2_TLSEXT_QUIC_TRANSPORT_PARAMETERS_V1 = 0x39u;

    // Address families as ngtcp2 sees them (the platform's AF_INET / AF_INET6).
    public const int NGTCP2_AF_INET = 2;
    public const int NGTCP2_AF_INET6 = 10;

    // ECN codepoints (ngtcp2_pkt_info.ecn).
    public const int NGTCP2_ECN_NOT_ECT = 0x0;
    public const int NGTCP2_ECN_ECT_1 = 0x1;
    public const int NGTCP2_ECN_ECT_0 = 0x2;
    public const int NGTCP2_ECN_CE = 0x3;
    public const int NGTCP2_ECN_MASK = 0x3;

    // Library error codes (negative int return values).
    public const int NGTCP2_ERR_INVALID_ARGUMENT = -201;
    public const int NGTCP2_ERR_NOBUF = -203;
    public const int NGTCP2_ERR_PROTO = -205;
    public const int NGTCP2_ERR_INVALID_STATE = -206;
    public const int NGTCP2_ERR_ACK_FRAME = -207;
    public const int NGTCP2_ERR_STREAM_ID_BLOCKED = -208;
    public const int NGTCP2_ERR_STREAM_IN_USE = -209;
    public const int NGTCP2_ERR_STREAM_DATA_BLOCKED = -210;
    public const int NGTCP2_ERR_FLOW_CONTROL = -211;
    public const int NGTCP2_ERR_CONNECTION_ID_LIMIT = -212;
    public const int NGTCP2_ERR_STREAM_LIMIT = -213;
    public const int NGTCP2_ERR_FINAL_SIZE = -214;
    public const int NGTCP2_ERR_CRYPTO = -215;
    public const int NGTCP2_ERR_PKT_NUM_EXHAUSTED = -216;
    public const int NGTCP2_ERR_REQUIRED_TRANSPORT_PARAM = -217;
    public const int NGTCP2_ERR_MALFORMED_TRANSPORT_PARAM = -218;
    public const int NGTCP2_ERR_FRAME_ENCODING = -219;
    public const int NGTCP2_ERR_DECRYPT = -220;
    public const int NGTCP2_ERR_STREAM_SHUT_WR = -221;
    public const int NGTCP2_ERR_STREAM_NOT_FOUND = -222;
    public const int NGTCP2_ERR_STREAM_STATE = -226;
    public const int NGTCP2_ERR_RECV_VERSION_NEGOTIATION = -229;
    public const int NGTCP2_ERR_CLOSING = -230;
    public const int NGTCP2_ERR_DRAINING = -231;
    public const int NGTCP2_ERR_TRANSPORT_PARAM = -234;
    public const int NGTCP2_ERR_DISCARD_PKT = -235;
    public const int NGTCP2_ERR_CONN_ID_BLOCKED = -237;
    public const int NGTCP2_ERR_INTERNAL = -238;
    public const int NGTCP2_ERR_CRYPTO_BUFFER_EXCEEDED = -239;
    public const int NGTCP2_ERR_WRITE_MORE = -240;
    public const int NGTCP2_ERR_RETRY = -241;
    public const int NGTCP2_ERR_DROP_CONN = -242;
    public const int NGTCP2_ERR_AEAD_LIMIT_REACHED = -243;
    public const int NGTCP2_ERR_NO_VIABLE_PATH = -244;
    public const int NGTCP2_ERR_VERSION_NEGOTIATION = -245;
    public const int NGTCP2_ERR_HANDSHAKE_TIMEOUT = -246;
    public const int NGTCP2_ERR_VERSION_NEGOTIATION_FAILURE = -247;
    public const int NGTCP2_ERR_IDLE_CLOSE = -248;
    /// <summary>Error codes below this one are fatal: the connection must be dropped.</summary>
    public const int NGTCP2_ERR_FATAL = -500;
    public const int NGTCP2_ERR_NOMEM = -501;
    public const int NGTCP2_ERR_CALLBACK_FAILURE = -502;

    // QUIC transport error codes (RFC 9000 section 20.1) for CONNECTION_CLOSE.
    public const uint NGTCP2_NO_ERROR = 0x0u;
    public const uint NGTCP2_INTERNAL_ERROR = 0x1u;
    public const uint NGTCP2_CONNECTION_REFUSED = 0x2u;
    public const uint NGTCP2_FLOW_CONTROL_ERROR = 0x3u;
    public const uint NGTCP2_STREAM_LIMIT_ERROR = 0x4u;
    public const uint NGTCP2_STREAM_STATE_ERROR = 0x5u;
    public const uint NGTCP2_FINAL_SIZE_ERROR = 0x6u;
    public const uint NGTCP2_FRAME_ENCODING_ERROR = 0x7u;
    public const uint NGTCP2_TRANSPORT_PARAMETER_ERROR = 0x8u;
    public const uint NGTCP2_CONNECTION_ID_LIMIT_ERROR = 0x9u;
    public const uint NGTCP2_PROTOCOL_VIOLATION = 0xau;
    public const uint NGTCP2_INVALID_TOKEN = 0xbu;
    public const uint NGTCP2_APPLICATION_ERROR = 0xcu;
    public const uint NGTCP2_CRYPTO_BUFFER_EXCEEDED = 0xdu;
    public const uint NGTCP2_KEY_UPDATE_ERROR = 0xeu;
    public const uint NGTCP2_AEAD_LIMIT_REACHED = 0xfu;
    public const uint NGTCP2_NO_VIABLE_PATH = 0x10u;
    /// <summary>Base of the CRYPTO_ERROR range: add the TLS alert number.</summary>
    public const uint NGTCP2_CRYPTO_ERROR = 0x100u;

    // ngtcp2_connection_close_error_code_type (ngtcp2_connection_close_error.type).
    public const int NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT = 0;
    public const int NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION = 1;
    public const int NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_VERSION_NEGOTIATION = 2;
    public const int NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_IDLE_CLOSE = 3;

    // ngtcp2_transport_params_type.
    public const int NGTCP2_TRANSPORT_PARAMS_TYPE_CLIENT_HELLO = 0;
    public const int NGTCP2_TRANSPORT_PARAMS_TYPE_ENCRYPTED_EXTENSIONS = 1;

    // ngtcp2_cc_algo (ngtcp2_settings.cc_algo).
    public const int NGTCP2_CC_ALGO_RENO = 0x00;
    public const int NGTCP2_CC_ALGO_CUBIC = 0x01;
    public const int NGTCP2_CC_ALGO_BBR = 0x02;
    public const int NGTCP2_CC_ALGO_BBR2 = 0x03;

    // ngtcp2_pktns_id; NGTCP2_PKTNS_ID_MAX sizes the per-space arrays of ngtcp2_conn_stat.
    public const int NGTCP2_PKTNS_ID_INITIAL = 0;
    public const int NGTCP2_PKTNS_ID_HANDSHAKE = 1;
    public const int NGTCP2_PKTNS_ID_APPLICATION = 2;
    public const int NGTCP2_PKTNS_ID_MAX = 3;

    // ngtcp2_crypto_level (recv_crypto_data, recv_rx_key, recv_tx_key).
    public const int NGTCP2_CRYPTO_LEVEL_INITIAL = 0;
    public const int NGTCP2_CRYPTO_LEVEL_HANDSHAKE = 1;
    public const int NGTCP2_CRYPTO_LEVEL_APPLICATION = 2;
    public const int NGTCP2_CRYPTO_LEVEL_EARLY = 3;

    // ngtcp2_path_validation_result (path_validation callback).
    public const int NGTCP2_PATH_VALIDATION_RESULT_SUCCESS = 0;
    public const int NGTCP2_PATH_VALIDATION_RESULT_FAILURE = 1;
    public const int NGTCP2_PATH_VALIDATION_RESULT_ABORTED = 2;

    // ngtcp2_connection_id_status_type (dcid_status callback).
    public const int NGTCP2_CONNECTION_ID_STATUS_TYPE_ACTIVATE = 0;
    public const int NGTCP2_CONNECTION_ID_STATUS_TYPE_DEACTIVATE = 1;

    // Callback and call flags.
    public const uint NGTCP2_STREAM_DATA_FLAG_NONE = 0x00u;
    public const uint NGTCP2_STREAM_DATA_FLAG_FIN = 0x01u;
    public const uint NGTCP2_STREAM_DATA_FLAG_EARLY = 0x02u;
    public const uint NGTCP2_STREAM_CLOSE_FLAG_NONE = 0x00u;
    public const uint NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET = 0x01u;
    public const uint NGTCP2_PATH_VALIDATION_FLAG_NONE = 0x00u;
    public const uint NGTCP2_PATH_VALIDATION_FLAG_PREFERRED_ADDR = 0x01u;
    public const uint NGTCP2_DATAGRAM_FLAG_NONE = 0x00u;
    public const uint NGTCP2_DATAGRAM_FLAG_EARLY = 0x01u;
    public const uint NGTCP2_WRITE_STREAM_FLAG_NONE = 0x00u;
    public const uint NGTCP2_WRITE_STREAM_FLAG_MORE = 0x01u;
    public const uint NGTCP2_WRITE_STREAM_FLAG_FIN = 0x02u;
    public const uint NGTCP2_WRITE_DATAGRAM_FLAG_NONE = 0x00u;
    public const uint NGTCP2_WRITE_DATAGRAM_FLAG_MORE = 0x01u;
    public const uint NGTCP2_QLOG_WRITE_FLAG_NONE = 0x00u;
    public const uint NGTCP2_QLOG_WRITE_FLAG_FIN = 0x01u;
}
