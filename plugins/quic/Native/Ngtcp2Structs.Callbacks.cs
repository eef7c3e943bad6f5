// Blittable mirror of the ngtcp2 0.12.1 callback table; see Ngtcp2Structs.cs for the naming
// conventions. Every member is a C function pointer held as nint (0 means "not set"); each comment
// gives the C signature the pointer must have. Unless noted, a callback returns 0 on success and
// NGTCP2_ERR_CALLBACK_FAILURE to abort the connection.

using System.Runtime.InteropServices;

#pragma warning disable IDE1006 // Names mirror the C headers; the layout test matches them by name.

namespace Plexus.Transport.Quic.Native;

/// <summary><c>ngtcp2_callbacks</c> (NGTCP2_CALLBACKS_VERSION 1): 40 function pointers, 320 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ngtcp2_callbacks
{
    /// <summary><c>int (*)(ngtcp2_conn *conn, void *user_data)</c>; client only.</summary>
    public nint client_initial;
    /// <summary><c>int (*)(ngtcp2_conn *conn, const ngtcp2_cid *dcid, void *user_data)</c>; server only.</summary>
    public nint recv_client_initial;
    /// <summary><c>int (*)(ngtcp2_conn *conn, ngtcp2_crypto_level crypto_level, uint64_t offset, const uint8_t *data, size_t datalen, void *user_data)</c></summary>
    public nint recv_crypto_data;
    /// <summary><c>int (*)(ngtcp2_conn *conn, void *user_data)</c></summary>
    public nint handshake_completed;
    /// <summary><c>int (*)(ngtcp2_conn *conn, const ngtcp2_pkt_hd *hd, const uint32_t *sv, size_t nsv, void *user_data)</c></summary>
    public nint recv_version_negotiation;
    /// <summary><c>int (*)(uint8_t *dest, const ngtcp2_crypto_aead *aead, const ngtcp2_crypto_aead_ctx *aead_ctx, const uint8_t *plaintext, size_t plaintextlen, const uint8_t *nonce, size_t noncelen, const uint8_t *aad, size_t aadlen)</c></summary>
    public nint encrypt;
    /// <summary><c>int (*)(uint8_t *dest, const ngtcp2_crypto_aead *aead, const ngtcp2_crypto_aead_ctx *aead_ctx, const uint8_t *ciphertext, size_t ciphertextlen, const uint8_t *nonce, size_t noncelen, const uint8_t *aad, size_t aadlen)</c></summary>
    public nint decrypt;
    /// <summary><c>int (*)(uint8_t *dest, const ngtcp2_crypto_cipher *hp, const ngtcp2_crypto_cipher_ctx *hp_ctx, const uint8_t *sample)</c></summary>
    public nint hp_mask;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id, uint64_t offset, const uint8_t *data, size_t datalen, void *user_data, void *stream_user_data)</c></summary>
    public nint recv_stream_data;
    /// <summary><c>int (*)(ngtcp2_conn *conn, int64_t stream_id, uint64_t offset, uint64_t datalen, void *user_data, void *stream_user_data)</c></summary>
    public nint acked_stream_data_offset;
    /// <summary><c>int (*)(ngtcp2_conn *conn, int64_t stream_id, void *user_data)</c></summary>
    public nint stream_open;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id, uint64_t app_error_code, void *user_data, void *stream_user_data)</c></summary>
    public nint stream_close;
    /// <summary><c>int (*)(ngtcp2_conn *conn, const ngtcp2_pkt_stateless_reset *sr, void *user_data)</c></summary>
    public nint recv_stateless_reset;
    /// <summary><c>int (*)(ngtcp2_conn *conn, const ngtcp2_pkt_hd *hd, void *user_data)</c>; client only.</summary>
    public nint recv_retry;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint64_t max_streams, void *user_data)</c></summary>
    public nint extend_max_local_streams_bidi;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint64_t max_streams, void *user_data)</c></summary>
    public nint extend_max_local_streams_uni;
    /// <summary><c>void (*)(uint8_t *dest, size_t destlen, const ngtcp2_rand_ctx *rand_ctx)</c></summary>
    public nint rand;
    /// <summary><c>int (*)(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user_data)</c></summary>
    public nint get_new_connection_id;
    /// <summary><c>int (*)(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *user_data)</c></summary>
    public nint remove_connection_id;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint8_t *rx_secret, uint8_t *tx_secret, ngtcp2_crypto_aead_ctx *rx_aead_ctx, uint8_t *rx_iv, ngtcp2_crypto_aead_ctx *tx_aead_ctx, uint8_t *tx_iv, const uint8_t *current_rx_secret, const uint8_t *current_tx_secret, size_t secretlen, void *user_data)</c></summary>
    public nint update_key;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint32_t flags, const ngtcp2_path *path, ngtcp2_path_validation_result res, void *user_data)</c></summary>
    public nint path_validation;
    /// <summary><c>int (*)(ngtcp2_conn *conn, ngtcp2_path *dest, const ngtcp2_preferred_addr *paddr, void *user_data)</c>; client only.</summary>
    public nint select_preferred_addr;
    /// <summary><c>int (*)(ngtcp2_conn *conn, int64_t stream_id, uint64_t final_size, uint64_t app_error_code, void *user_data, void *stream_user_data)</c></summary>
    public nint stream_reset;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint64_t max_streams, void *user_data)</c></summary>
    public nint extend_max_remote_streams_bidi;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint64_t max_streams, void *user_data)</c></summary>
    public nint extend_max_remote_streams_uni;
    /// <summary><c>int (*)(ngtcp2_conn *conn, int64_t stream_id, uint64_t max_data, void *user_data, void *stream_user_data)</c></summary>
    public nint extend_max_stream_data;
    /// <summary><c>int (*)(ngtcp2_conn *conn, int type, uint64_t seq, const ngtcp2_cid *cid, const uint8_t *token, void *user_data)</c></summary>
    public nint dcid_status;
    /// <summary><c>int (*)(ngtcp2_conn *conn, void *user_data)</c></summary>
    public nint handshake_confirmed;
    /// <summary><c>int (*)(ngtcp2_conn *conn, const ngtcp2_vec *token, void *user_data)</c>; client only.</summary>
    public nint recv_new_token;
    /// <summary><c>void (*)(ngtcp2_conn *conn, ngtcp2_crypto_aead_ctx *aead_ctx, void *user_data)</c></summary>
    public nint delete_crypto_aead_ctx;
    /// <summary><c>void (*)(ngtcp2_conn *conn, ngtcp2_crypto_cipher_ctx *cipher_ctx, void *user_data)</c></summary>
    public nint delete_crypto_cipher_ctx;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint32_t flags, const uint8_t *data, size_t datalen, void *user_data)</c></summary>
    public nint recv_datagram;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint64_t dgram_id, void *user_data)</c></summary>
    public nint ack_datagram;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint64_t dgram_id, void *user_data)</c></summary>
    public nint lost_datagram;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint8_t *data, void *user_data)</c></summary>
    public nint get_path_challenge_data;
    /// <summary><c>int (*)(ngtcp2_conn *conn, int64_t stream_id, uint64_t app_error_code, void *user_data, void *stream_user_data)</c></summary>
    public nint stream_stop_sending;
    /// <summary><c>int (*)(ngtcp2_conn *conn, uint32_t version, const ngtcp2_cid *client_dcid, void *user_data)</c></summary>
    public nint version_negotiation;
    /// <summary><c>int (*)(ngtcp2_conn *conn, ngtcp2_crypto_level level, void *user_data)</c></summary>
    public nint recv_rx_key;
    /// <summary><c>int (*)(ngtcp2_conn *conn, ngtcp2_crypto_level level, void *user_data)</c></summary>
    public nint recv_tx_key;
    /// <summary><c>int (*)(ngtcp2_conn *conn, void *user_data)</c></summary>
    public nint early_data_rejected;
}
