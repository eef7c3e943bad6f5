/*
 * Prints the layout of the ngtcp2 structs and the values of the ngtcp2 constants that
 * plugins/quic/Native mirrors, as computed by the C compiler from the installed headers.
 * StructLayoutTests compiles and runs this and compares the output with the C# definitions.
 *
 * Output lines:
 *   struct <name> <sizeof>
 *   field <struct> <field> <offsetof> <sizeof field>
 *   const <name> <value> <sizeof> <signed 0|1>
 *   runtime_version_num <version_num of the linked libngtcp2>
 *
 * Every C# struct named ngtcp2_* and every Ngtcp2Constants field must appear here (the test
 * checks both directions), with every field of each struct.
 */
#include <stddef.h>
#include <stdio.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* The socket structs by their tag names, as the C# mirrors are named. */
typedef struct iovec iovec;
typedef struct msghdr msghdr;
typedef struct cmsghdr cmsghdr;

#define STRUCT(T) printf("struct %s %zu\n", #T, sizeof(T))
#define FIELD(T, F)                                                            \
  printf("field %s %s %zu %zu\n", #T, #F, offsetof(T, F), sizeof(((T *)0)->F))

/* The type of a constant matters as much as its value (int vs unsigned vs 64-bit). No default
   case: a constant of any other type fails to compile instead of being misreported. */
#define IS_SIGNED(X)                                                           \
  _Generic((X), int: 1, long: 1, long long: 1, unsigned int: 0,               \
           unsigned long: 0, unsigned long long: 0)
#define CONST(X)                                                               \
  do {                                                                         \
    if (IS_SIGNED(X))                                                          \
      printf("const %s %lld %zu 1\n", #X, (long long)(X), sizeof(X));         \
    else                                                                       \
      printf("const %s %llu %zu 0\n", #X, (unsigned long long)(X), sizeof(X)); \
  } while (0)

static void system_structs(void) {
  STRUCT(gnutls_datum_t);
  FIELD(gnutls_datum_t, data);
  FIELD(gnutls_datum_t, size);
  STRUCT(iovec);
  FIELD(iovec, iov_base);
  FIELD(iovec, iov_len);
  STRUCT(msghdr);
  FIELD(msghdr, msg_name);
  FIELD(msghdr, msg_namelen);
  FIELD(msghdr, msg_iov);
  FIELD(msghdr, msg_iovlen);
  FIELD(msghdr, msg_control);
  FIELD(msghdr, msg_controllen);
  FIELD(msghdr, msg_flags);
  STRUCT(cmsghdr);
  FIELD(cmsghdr, cmsg_len);
  FIELD(cmsghdr, cmsg_level);
  FIELD(cmsghdr, cmsg_type);

  CONST(SOL_UDP);
  CONST(UDP_SEGMENT);
  CONST(EAGAIN);
  CONST(EIO);
  CONST(EINVAL);
  CONST(EMSGSIZE);
  CONST(ENOPROTOOPT);
  CONST(EOPNOTSUPP);

  CONST(GNUTLS_SERVER);
  CONST(GNUTLS_CLIENT);
  CONST(GNUTLS_ENABLE_EARLY_DATA);
  CONST(GNUTLS_NO_AUTO_SEND_TICKET);
  CONST(GNUTLS_NO_END_OF_EARLY_DATA);
  CONST(GNUTLS_CRD_CERTIFICATE);
  CONST(GNUTLS_X509_FMT_PEM);
  CONST(GNUTLS_CERT_REQUIRE);
  CONST(GNUTLS_ALPN_MANDATORY);
  CONST(GNUTLS_ALPN_SERVER_PRECEDENCE);
  CONST(GNUTLS_NAME_DNS);
  CONST(GNUTLS_CERT_INVALID);
  CONST(GNUTLS_CERT_REVOKED);
  CONST(GNUTLS_CERT_SIGNER_NOT_FOUND);
  CONST(GNUTLS_CERT_SIGNER_NOT_CA);
  CONST(GNUTLS_CERT_NOT_ACTIVATED);
  CONST(GNUTLS_CERT_EXPIRED);
  CONST(GNUTLS_CERT_UNEXPECTED_OWNER);
  CONST(GNUTLS_CERT_PURPOSE_MISMATCH);
  CONST(GNUTLS_CERT_MISSING_OCSP_STATUS);
}

static void structs(void) {
  STRUCT(ngtcp2_cid);
  FIELD(ngtcp2_cid, datalen);
  FIELD(ngtcp2_cid, data);

  STRUCT(ngtcp2_vec);
  FIELD(ngtcp2_vec, base);
  FIELD(ngtcp2_vec, len);

  STRUCT(ngtcp2_sockaddr);
  FIELD(ngtcp2_sockaddr, sa_family);
  FIELD(ngtcp2_sockaddr, sa_data);

  STRUCT(ngtcp2_sockaddr_in);
  FIELD(ngtcp2_sockaddr_in, sin_family);
  FIELD(ngtcp2_sockaddr_in, sin_port);
  FIELD(ngtcp2_sockaddr_in, sin_addr);
  FIELD(ngtcp2_sockaddr_in, sin_zero);

  STRUCT(ngtcp2_sockaddr_in6);
  FIELD(ngtcp2_sockaddr_in6, sin6_family);
  FIELD(ngtcp2_sockaddr_in6, sin6_port);
  FIELD(ngtcp2_sockaddr_in6, sin6_flowinfo);
  FIELD(ngtcp2_sockaddr_in6, sin6_addr);
  FIELD(ngtcp2_sockaddr_in6, sin6_scope_id);

  STRUCT(ngtcp2_sockaddr_union);
  FIELD(ngtcp2_sockaddr_union, sa);
  FIELD(ngtcp2_sockaddr_union, in);
  FIELD(ngtcp2_sockaddr_union, in6);

  STRUCT(ngtcp2_addr);
  FIELD(ngtcp2_addr, addr);
  FIELD(ngtcp2_addr, addrlen);

  STRUCT(ngtcp2_path);
  FIELD(ngtcp2_path, local);
  FIELD(ngtcp2_path, remote);
  FIELD(ngtcp2_path, user_data);

  STRUCT(ngtcp2_path_storage);
  FIELD(ngtcp2_path_storage, path);
  FIELD(ngtcp2_path_storage, local_addrbuf);
  FIELD(ngtcp2_path_storage, remote_addrbuf);

  STRUCT(ngtcp2_pkt_info);
  FIELD(ngtcp2_pkt_info, ecn);

  STRUCT(ngtcp2_pkt_hd);
  FIELD(ngtcp2_pkt_hd, dcid);
  FIELD(ngtcp2_pkt_hd, scid);
  FIELD(ngtcp2_pkt_hd, pkt_num);
  FIELD(ngtcp2_pkt_hd, token);
  FIELD(ngtcp2_pkt_hd, pkt_numlen);
  FIELD(ngtcp2_pkt_hd, len);
  FIELD(ngtcp2_pkt_hd, version);
  FIELD(ngtcp2_pkt_hd, type);
  FIELD(ngtcp2_pkt_hd, flags);

  STRUCT(ngtcp2_pkt_stateless_reset);
  FIELD(ngtcp2_pkt_stateless_reset, stateless_reset_token);
  FIELD(ngtcp2_pkt_stateless_reset, rand);
  FIELD(ngtcp2_pkt_stateless_reset, randlen);

  STRUCT(ngtcp2_version_cid);
  FIELD(ngtcp2_version_cid, version);
  FIELD(ngtcp2_version_cid, dcid);
  FIELD(ngtcp2_version_cid, dcidlen);
  FIELD(ngtcp2_version_cid, scid);
  FIELD(ngtcp2_version_cid, scidlen);

  STRUCT(ngtcp2_rand_ctx);
  FIELD(ngtcp2_rand_ctx, native_handle);

  STRUCT(ngtcp2_mem);
  FIELD(ngtcp2_mem, user_data);
  FIELD(ngtcp2_mem, malloc);
  FIELD(ngtcp2_mem, free);
  FIELD(ngtcp2_mem, calloc);
  FIELD(ngtcp2_mem, realloc);

  STRUCT(ngtcp2_crypto_md);
  FIELD(ngtcp2_crypto_md, native_handle);

  STRUCT(ngtcp2_crypto_aead);
  FIELD(ngtcp2_crypto_aead, native_handle);
  FIELD(ngtcp2_crypto_aead, max_overhead);

  STRUCT(ngtcp2_crypto_cipher);
  FIELD(ngtcp2_crypto_cipher, native_handle);

  STRUCT(ngtcp2_crypto_aead_ctx);
  FIELD(ngtcp2_crypto_aead_ctx, native_handle);

  STRUCT(ngtcp2_crypto_cipher_ctx);
  FIELD(ngtcp2_crypto_cipher_ctx, native_handle);

  STRUCT(ngtcp2_crypto_ctx);
  FIELD(ngtcp2_crypto_ctx, aead);
  FIELD(ngtcp2_crypto_ctx, md);
  FIELD(ngtcp2_crypto_ctx, hp);
  FIELD(ngtcp2_crypto_ctx, max_encryption);
  FIELD(ngtcp2_crypto_ctx, max_decryption_failure);

  STRUCT(ngtcp2_crypto_conn_ref);
  FIELD(ngtcp2_crypto_conn_ref, get_conn);
  FIELD(ngtcp2_crypto_conn_ref, user_data);

  STRUCT(ngtcp2_info);
  FIELD(ngtcp2_info, age);
  FIELD(ngtcp2_info, version_num);
  FIELD(ngtcp2_info, version_str);

  STRUCT(ngtcp2_qlog_settings);
  FIELD(ngtcp2_qlog_settings, odcid);
  FIELD(ngtcp2_qlog_settings, write);

  STRUCT(ngtcp2_settings);
  FIELD(ngtcp2_settings, qlog);
  FIELD(ngtcp2_settings, cc_algo);
  FIELD(ngtcp2_settings, initial_ts);
  FIELD(ngtcp2_settings, initial_rtt);
  FIELD(ngtcp2_settings, log_printf);
  FIELD(ngtcp2_settings, max_tx_udp_payload_size);
  FIELD(ngtcp2_settings, token);
  FIELD(ngtcp2_settings, rand_ctx);
  FIELD(ngtcp2_settings, max_window);
  FIELD(ngtcp2_settings, max_stream_window);
  FIELD(ngtcp2_settings, ack_thresh);
  FIELD(ngtcp2_settings, no_tx_udp_payload_size_shaping);
  FIELD(ngtcp2_settings, handshake_timeout);
  FIELD(ngtcp2_settings, preferred_versions);
  FIELD(ngtcp2_settings, preferred_versionslen);
  FIELD(ngtcp2_settings, other_versions);
  FIELD(ngtcp2_settings, other_versionslen);
  FIELD(ngtcp2_settings, original_version);
  FIELD(ngtcp2_settings, no_pmtud);

  STRUCT(ngtcp2_preferred_addr);
  FIELD(ngtcp2_preferred_addr, cid);
  FIELD(ngtcp2_preferred_addr, ipv4);
  FIELD(ngtcp2_preferred_addr, ipv6);
  FIELD(ngtcp2_preferred_addr, ipv4_present);
  FIELD(ngtcp2_preferred_addr, ipv6_present);
  FIELD(ngtcp2_preferred_addr, stateless_reset_token);

  STRUCT(ngtcp2_version_info);
  FIELD(ngtcp2_version_info, chosen_version);
  FIELD(ngtcp2_version_info, other_versions);
  FIELD(ngtcp2_version_info, other_versionslen);

  STRUCT(ngtcp2_transport_params);
  FIELD(ngtcp2_transport_params, preferred_address);
  FIELD(ngtcp2_transport_params, original_dcid);
  FIELD(ngtcp2_transport_params, initial_scid);
  FIELD(ngtcp2_transport_params, retry_scid);
  FIELD(ngtcp2_transport_params, initial_max_stream_data_bidi_local);
  FIELD(ngtcp2_transport_params, initial_max_stream_data_bidi_remote);
  FIELD(ngtcp2_transport_params, initial_max_stream_data_uni);
  FIELD(ngtcp2_transport_params, initial_max_data);
  FIELD(ngtcp2_transport_params, initial_max_streams_bidi);
  FIELD(ngtcp2_transport_params, initial_max_streams_uni);
  FIELD(ngtcp2_transport_params, max_idle_timeout);
  FIELD(ngtcp2_transport_params, max_udp_payload_size);
  FIELD(ngtcp2_transport_params, active_connection_id_limit);
  FIELD(ngtcp2_transport_params, ack_delay_exponent);
  FIELD(ngtcp2_transport_params, max_ack_delay);
  FIELD(ngtcp2_transport_params, max_datagram_frame_size);
  FIELD(ngtcp2_transport_params, stateless_reset_token_present);
  FIELD(ngtcp2_transport_params, disable_active_migration);
  FIELD(ngtcp2_transport_params, retry_scid_present);
  FIELD(ngtcp2_transport_params, preferred_address_present);
  FIELD(ngtcp2_transport_params, stateless_reset_token);
  FIELD(ngtcp2_transport_params, grease_quic_bit);
  FIELD(ngtcp2_transport_params, version_info);
  FIELD(ngtcp2_transport_params, version_info_present);

  STRUCT(ngtcp2_conn_stat);
  FIELD(ngtcp2_conn_stat, latest_rtt);
  FIELD(ngtcp2_conn_stat, min_rtt);
  FIELD(ngtcp2_conn_stat, smoothed_rtt);
  FIELD(ngtcp2_conn_stat, rttvar);
  FIELD(ngtcp2_conn_stat, initial_rtt);
  FIELD(ngtcp2_conn_stat, first_rtt_sample_ts);
  FIELD(ngtcp2_conn_stat, pto_count);
  FIELD(ngtcp2_conn_stat, loss_detection_timer);
  FIELD(ngtcp2_conn_stat, last_tx_pkt_ts);
  FIELD(ngtcp2_conn_stat, loss_time);
  FIELD(ngtcp2_conn_stat, cwnd);
  FIELD(ngtcp2_conn_stat, ssthresh);
  FIELD(ngtcp2_conn_stat, congestion_recovery_start_ts);
  FIELD(ngtcp2_conn_stat, bytes_in_flight);
  FIELD(ngtcp2_conn_stat, max_tx_udp_payload_size);
  FIELD(ngtcp2_conn_stat, delivery_rate_sec);
  FIELD(ngtcp2_conn_stat, pacing_rate);
  FIELD(ngtcp2_conn_stat, send_quantum);

  STRUCT(ngtcp2_connection_close_error);
  FIELD(ngtcp2_connection_close_error, type);
  FIELD(ngtcp2_connection_close_error, error_code);
  FIELD(ngtcp2_connection_close_error, frame_type);
  FIELD(ngtcp2_connection_close_error, reason);
  FIELD(ngtcp2_connection_close_error, reasonlen);

  STRUCT(ngtcp2_callbacks);
  FIELD(ngtcp2_callbacks, client_initial);
  FIELD(ngtcp2_callbacks, recv_client_initial);
  FIELD(ngtcp2_callbacks, recv_crypto_data);
  FIELD(ngtcp2_callbacks, handshake_completed);
  FIELD(ngtcp2_callbacks, recv_version_negotiation);
  FIELD(ngtcp2_callbacks, encrypt);
  FIELD(ngtcp2_callbacks, decrypt);
  FIELD(ngtcp2_callbacks, hp_mask);
  FIELD(ngtcp2_callbacks, recv_stream_data);
  FIELD(ngtcp2_callbacks, acked_stream_data_offset);
  FIELD(ngtcp2_callbacks, stream_open);
  FIELD(ngtcp2_callbacks, stream_close);
  FIELD(ngtcp2_callbacks, recv_stateless_reset);
  FIELD(ngtcp2_callbacks, recv_retry);
  FIELD(ngtcp2_callbacks, extend_max_local_streams_bidi);
  FIELD(ngtcp2_callbacks, extend_max_local_streams_uni);
  FIELD(ngtcp2_callbacks, rand);
  FIELD(ngtcp2_callbacks, get_new_connection_id);
  FIELD(ngtcp2_callbacks, remove_connection_id);
  FIELD(ngtcp2_callbacks, update_key);
  FIELD(ngtcp2_callbacks, path_validation);
  FIELD(ngtcp2_callbacks, select_preferred_addr);
  FIELD(ngtcp2_callbacks, stream_reset);
  FIELD(ngtcp2_callbacks, extend_max_remote_streams_bidi);
  FIELD(ngtcp2_callbacks, extend_max_remote_streams_uni);
  FIELD(ngtcp2_callbacks, extend_max_stream_data);
  FIELD(ngtcp2_callbacks, dcid_status);
  FIELD(ngtcp2_callbacks, handshake_confirmed);
  FIELD(ngtcp2_callbacks, recv_new_token);
  FIELD(ngtcp2_callbacks, delete_crypto_aead_ctx);
  FIELD(ngtcp2_callbacks, delete_crypto_cipher_ctx);
  FIELD(ngtcp2_callbacks, recv_datagram);
  FIELD(ngtcp2_callbacks, ack_datagram);
  FIELD(ngtcp2_callbacks, lost_datagram);
  FIELD(ngtcp2_callbacks, get_path_challenge_data);
  FIELD(ngtcp2_callbacks, stream_stop_sending);
  FIELD(ngtcp2_callbacks, version_negotiation);
  FIELD(ngtcp2_callbacks, recv_rx_key);
  FIELD(ngtcp2_callbacks, recv_tx_key);
  FIELD(ngtcp2_callbacks, early_data_rejected);
}

static void constants(void) {
  CONST(NGTCP2_VERSION_NUM);
  CONST(NGTCP2_VERSION_AGE);
  CONST(NGTCP2_SETTINGS_VERSION);
  CONST(NGTCP2_TRANSPORT_PARAMS_VERSION);
  CONST(NGTCP2_CALLBACKS_VERSION);
  CONST(NGTCP2_PKT_INFO_VERSION);
  CONST(NGTCP2_CONN_STAT_VERSION);

  CONST(NGTCP2_SECONDS);
  CONST(NGTCP2_MILLISECONDS);
  CONST(NGTCP2_MICROSECONDS);
  CONST(NGTCP2_NANOSECONDS);
  CONST(NGTCP2_DEFAULT_INITIAL_RTT);
  CONST(NGTCP2_DEFAULT_HANDSHAKE_TIMEOUT);
  CONST(NGTCP2_DEFAULT_MAX_ACK_DELAY);

  CONST(NGTCP2_PROTO_VER_V1);
  CONST(NGTCP2_PROTO_VER_V2_DRAFT);
  CONST(NGTCP2_PROTO_VER_MAX);
  CONST(NGTCP2_PROTO_VER_MIN);

  CONST(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
  CONST(NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE);
  CONST(NGTCP2_DEFAULT_MAX_RECV_UDP_PAYLOAD_SIZE);
  CONST(NGTCP2_MAX_VARINT);
  CONST(NGTCP2_STATELESS_RESET_TOKENLEN);
  CONST(NGTCP2_MIN_STATELESS_RESET_RANDLEN);
  CONST(NGTCP2_PATH_CHALLENGE_DATALEN);
  CONST(NGTCP2_MAX_CIDLEN);
  CONST(NGTCP2_MIN_CIDLEN);
  CONST(NGTCP2_MIN_INITIAL_DCIDLEN);

  CONST(NGTCP2_DEFAULT_ACK_DELAY_EXPONENT);
  CONST(NGTCP2_DEFAULT_ACTIVE_CONNECTION_ID_LIMIT);
  CONST(NGTCP2_TLSEXT_QUIC_TRANSPORT_PARAMETERS_V1);

  CONST(NGTCP2_AF_INET);
  CONST(NGTCP2_AF_INET6);

  CONST(NGTCP2_ECN_NOT_ECT);
  CONST(NGTCP2_ECN_ECT_1);
  CONST(NGTCP2_ECN_ECT_0);
  CONST(NGTCP2_ECN_CE);
  CONST(NGTCP2_ECN_MASK);

  CONST(NGTCP2_ERR_INVALID_ARGUMENT);
  CONST(NGTCP2_ERR_NOBUF);
  CONST(NGTCP2_ERR_PROTO);
  CONST(NGTCP2_ERR_INVALID_STATE);
  CONST(NGTCP2_ERR_ACK_FRAME);
  CONST(NGTCP2_ERR_STREAM_ID_BLOCKED);
  CONST(NGTCP2_ERR_STREAM_IN_USE);
  CONST(NGTCP2_ERR_STREAM_DATA_BLOCKED);
  CONST(NGTCP2_ERR_FLOW_CONTROL);
  CONST(NGTCP2_ERR_CONNECTION_ID_LIMIT);
  CONST(NGTCP2_ERR_STREAM_LIMIT);
  CONST(NGTCP2_ERR_FINAL_SIZE);
  CONST(NGTCP2_ERR_CRYPTO);
  CONST(NGTCP2_ERR_PKT_NUM_EXHAUSTED);
  CONST(NGTCP2_ERR_REQUIRED_TRANSPORT_PARAM);
  CONST(NGTCP2_ERR_MALFORMED_TRANSPORT_PARAM);
  CONST(NGTCP2_ERR_FRAME_ENCODING);
  CONST(NGTCP2_ERR_DECRYPT);
  CONST(NGTCP2_ERR_STREAM_SHUT_WR);
  CONST(NGTCP2_ERR_STREAM_NOT_FOUND);
  CONST(NGTCP2_ERR_STREAM_STATE);
  CONST(NGTCP2_ERR_RECV_VERSION_NEGOTIATION);
  CONST(NGTCP2_ERR_CLOSING);
  CONST(NGTCP2_ERR_DRAINING);
  CONST(NGTCP2_ERR_TRANSPORT_PARAM);
  CONST(NGTCP2_ERR_DISCARD_PKT);
  CONST(NGTCP2_ERR_CONN_ID_BLOCKED);
  CONST(NGTCP2_ERR_INTERNAL);
  CONST(NGTCP2_ERR_CRYPTO_BUFFER_EXCEEDED);
  CONST(NGTCP2_ERR_WRITE_MORE);
  CONST(NGTCP2_ERR_RETRY);
  CONST(NGTCP2_ERR_DROP_CONN);
  CONST(NGTCP2_ERR_AEAD_LIMIT_REACHED);
  CONST(NGTCP2_ERR_NO_VIABLE_PATH);
  CONST(NGTCP2_ERR_VERSION_NEGOTIATION);
  CONST(NGTCP2_ERR_HANDSHAKE_TIMEOUT);
  CONST(NGTCP2_ERR_VERSION_NEGOTIATION_FAILURE);
  CONST(NGTCP2_ERR_IDLE_CLOSE);
  CONST(NGTCP2_ERR_FATAL);
  CONST(NGTCP2_ERR_NOMEM);
  CONST(NGTCP2_ERR_CALLBACK_FAILURE);

  CONST(NGTCP2_NO_ERROR);
  CONST(NGTCP2_INTERNAL_ERROR);
  CONST(NGTCP2_CONNECTION_REFUSED);
  CONST(NGTCP2_FLOW_CONTROL_ERROR);
  CONST(NGTCP2_STREAM_LIMIT_ERROR);
  CONST(NGTCP2_STREAM_STATE_ERROR);
  CONST(NGTCP2_FINAL_SIZE_ERROR);
  CONST(NGTCP2_FRAME_ENCODING_ERROR);
  CONST(NGTCP2_TRANSPORT_PARAMETER_ERROR);
  CONST(NGTCP2_CONNECTION_ID_LIMIT_ERROR);
  CONST(NGTCP2_PROTOCOL_VIOLATION);
  CONST(NGTCP2_INVALID_TOKEN);
  CONST(NGTCP2_APPLICATION_ERROR);
  CONST(NGTCP2_CRYPTO_BUFFER_EXCEEDED);
  CONST(NGTCP2_KEY_UPDATE_ERROR);
  CONST(NGTCP2_AEAD_LIMIT_REACHED);
  CONST(NGTCP2_NO_VIABLE_PATH);
  CONST(NGTCP2_CRYPTO_ERROR);

  CONST(NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT);
  CONST(NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION);
  CONST(NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_VERSION_NEGOTIATION);
  CONST(NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_IDLE_CLOSE);

  CONST(NGTCP2_TRANSPORT_PARAMS_TYPE_CLIENT_HELLO);
  CONST(NGTCP2_TRANSPORT_PARAMS_TYPE_ENCRYPTED_EXTENSIONS);

  CONST(NGTCP2_CC_ALGO_RENO);
  CONST(NGTCP2_CC_ALGO_CUBIC);
  CONST(NGTCP2_CC_ALGO_BBR);
  CONST(NGTCP2_CC_ALGO_BBR2);

  CONST(NGTCP2_PKTNS_ID_INITIAL);
  CONST(NGTCP2_PKTNS_ID_HANDSHAKE);
  CONST(NGTCP2_PKTNS_ID_APPLICATION);
  CONST(NGTCP2_PKTNS_ID_MAX);

  CONST(NGTCP2_CRYPTO_LEVEL_INITIAL);
  CONST(NGTCP2_CRYPTO_LEVEL_HANDSHAKE);
  CONST(NGTCP2_CRYPTO_LEVEL_APPLICATION);
  CONST(NGTCP2_CRYPTO_LEVEL_EARLY);

  CONST(NGTCP2_PATH_VALIDATION_RESULT_SUCCESS);
  CONST(NGTCP2_PATH_VALIDATION_RESULT_FAILURE);
  CONST(NGTCP2_PATH_VALIDATION_RESULT_ABORTED);

  CONST(NGTCP2_CONNECTION_ID_STATUS_TYPE_ACTIVATE);
  CONST(NGTCP2_CONNECTION_ID_STATUS_TYPE_DEACTIVATE);

  CONST(NGTCP2_STREAM_DATA_FLAG_NONE);
  CONST(NGTCP2_STREAM_DATA_FLAG_FIN);
  CONST(NGTCP2_STREAM_DATA_FLAG_EARLY);
  CONST(NGTCP2_STREAM_CLOSE_FLAG_NONE);
  CONST(NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET);
  CONST(NGTCP2_PATH_VALIDATION_FLAG_NONE);
  CONST(NGTCP2_PATH_VALIDATION_FLAG_PREFERRED_ADDR);
  CONST(NGTCP2_DATAGRAM_FLAG_NONE);
  CONST(NGTCP2_DATAGRAM_FLAG_EARLY);
  CONST(NGTCP2_WRITE_STREAM_FLAG_NONE);
  CONST(NGTCP2_WRITE_STREAM_FLAG_MORE);
  CONST(NGTCP2_WRITE_STREAM_FLAG_FIN);
  CONST(NGTCP2_WRITE_DATAGRAM_FLAG_NONE);
  CONST(NGTCP2_WRITE_DATAGRAM_FLAG_MORE);
  CONST(NGTCP2_QLOG_WRITE_FLAG_NONE);
  CONST(NGTCP2_QLOG_WRITE_FLAG_FIN);
}

int main(void) {
  structs();
  system_structs();
  constants();
  /* The library the plugin loads at run time must be the one these headers describe. */
  printf("runtime_version_num %d\n", ngtcp2_version(0)->version_num);
  return 0;
}
