using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Native;

#pragma warning disable CA1707, IDE1006 // The entry points keep the C names, so each can be checked against ngtcp2.h.

/// <summary>
/// The ngtcp2 0.12 functions Plexus calls. The public C functions are macros over these <c>_versioned</c> exports; the
/// struct versions passed are those of 0.12 (all 1). Library name: the versioned soname, which the runtime packages
/// ship (the unversioned link comes only with the -dev package).
/// </summary>
internal static unsafe partial class Ngtcp2
{
    public const string Library = "libngtcp2.so.9";
    public const int StructVersion = 1;

    [LibraryImport(Library)]
    public static partial ngtcp2_info* ngtcp2_version(int least_version);

    [LibraryImport(Library)]
    public static partial void ngtcp2_settings_default_versioned(int settings_version, ngtcp2_settings* settings);

    [LibraryImport(Library)]
    public static partial void ngtcp2_transport_params_default_versioned(int transport_params_version, ngtcp2_transport_params* @params);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_client_new_versioned(
        nint* pconn, ngtcp2_cid* dcid, ngtcp2_cid* scid, ngtcp2_path* path, uint client_chosen_version,
        int callbacks_version, ngtcp2_callbacks* callbacks, int settings_version, ngtcp2_settings* settings,
        int transport_params_version, ngtcp2_transport_params* @params, nint mem, nint user_data);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_server_new_versioned(
        nint* pconn, ngtcp2_cid* dcid, ngtcp2_cid* scid, ngtcp2_path* path, uint client_chosen_version,
        int callbacks_version, ngtcp2_callbacks* callbacks, int settings_version, ngtcp2_settings* settings,
        int transport_params_version, ngtcp2_transport_params* @params, nint mem, nint user_data);

    [LibraryImport(Library)]
    public static partial void ngtcp2_conn_del(nint conn);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_read_pkt_versioned(
        nint conn, ngtcp2_path* path, int pkt_info_version, ngtcp2_pkt_info* pi, byte* pkt, nuint pktlen, ulong ts);

    [LibraryImport(Library)]
    public static partial nint ngtcp2_conn_writev_stream_versioned(
        nint conn, ngtcp2_path* path, int pkt_info_version, ngtcp2_pkt_info* pi, byte* dest, nuint destlen,
        nint* pdatalen, uint flags, long stream_id, ngtcp2_vec* datav, nuint datavcnt, ulong ts);

    [LibraryImport(Library)]
    public static partial nint ngtcp2_conn_write_connection_close_versioned(
        nint conn, ngtcp2_path* path, int pkt_info_version, ngtcp2_pkt_info* pi, byte* dest, nuint destlen,
        ngtcp2_connection_close_error* ccerr, ulong ts);

    [LibraryImport(Library)]
    public static partial void ngtcp2_conn_set_tls_native_handle(nint conn, nint tls_native_handle);

    [LibraryImport(Library)]
    public static partial ulong ngtcp2_conn_get_expiry(nint conn);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_handle_expiry(nint conn, ulong ts);

    [LibraryImport(Library)]
    public static partial void ngtcp2_conn_set_keep_alive_timeout(nint conn, ulong timeout);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_open_bidi_stream(nint conn, long* pstream_id, nint stream_user_data);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_open_uni_stream(nint conn, long* pstream_id, nint stream_user_data);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_shutdown_stream_write(nint conn, long stream_id, ulong app_error_code);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_shutdown_stream_read(nint conn, long stream_id, ulong app_error_code);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_extend_max_stream_offset(nint conn, long stream_id, ulong datalen);

    [LibraryImport(Library)]
    public static partial void ngtcp2_conn_extend_max_offset(nint conn, ulong datalen);

    [LibraryImport(Library)]
    public static partial void ngtcp2_conn_extend_max_streams_bidi(nint conn, nuint n);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_is_in_closing_period(nint conn);

    [LibraryImport(Library)]
    public static partial int ngtcp2_conn_is_in_draining_period(nint conn);

    [LibraryImport(Library)]
    public static partial void ngtcp2_conn_get_connection_close_error(nint conn, ngtcp2_connection_close_error* ccerr);

    [LibraryImport(Library)]
    public static partial byte ngtcp2_conn_get_tls_alert(nint conn);

    [LibraryImport(Library)]
    public static partial void ngtcp2_connection_close_error_set_application_error(
        ngtcp2_connection_close_error* ccerr, ulong error_code, byte* reason, nuint reasonlen);

    [LibraryImport(Library)]
    public static partial void ngtcp2_connection_close_error_set_transport_error_liberr(
        ngtcp2_connection_close_error* ccerr, int liberr, byte* reason, nuint reasonlen);

    [LibraryImport(Library)]
    public static partial void ngtcp2_connection_close_error_set_transport_error_tls_alert(
        ngtcp2_connection_close_error* ccerr, byte tls_alert, byte* reason, nuint reasonlen);

    [LibraryImport(Library)]
    public static partial int ngtcp2_accept(ngtcp2_pkt_hd* dest, byte* pkt, nuint pktlen);

    [LibraryImport(Library)]
    public static partial int ngtcp2_pkt_decode_version_cid(ngtcp2_version_cid* dest, byte* data, nuint datalen, nuint short_dcidlen);

    [LibraryImport(Library)]
    public static partial nint ngtcp2_pkt_write_version_negotiation(
        byte* dest, nuint destlen, byte unused_random, byte* dcid, nuint dcidlen, byte* scid, nuint scidlen, uint* sv, nuint nsv);

    [LibraryImport(Library)]
    public static partial nint ngtcp2_strerror(int liberr);

    /// <summary>ngtcp2's text for an error code, for log lines and exception messages.</summary>
    public static string ErrorText(int liberr) => Marshal.PtrToStringUTF8(ngtcp2_strerror(liberr)) ?? $"ngtcp2 error {liberr}";
}

/// <summary>The ready-made crypto callbacks and helpers of ngtcp2's GnuTLS crypto library.</summary>
internal static unsafe partial class Ngtcp2CryptoGnuTls
{
    public const string Library = "libngtcp2_crypto_gnutls.so.2";

    [LibraryImport(Library)]
    public static partial int ngtcp2_crypto_gnutls_configure_client_session(nint session);

    [LibraryImport(Library)]
    public static partial int ngtcp2_crypto_gnutls_configure_server_session(nint session);
}
#pragma warning restore CA1707, IDE1006
