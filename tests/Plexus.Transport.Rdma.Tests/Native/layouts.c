/*
 * Prints the layout of the UCX ucp structs and the values of the ucp/ucs constants that
 * plugins/rdma/Native mirrors, as computed by the C compiler from the installed headers.
 * StructLayoutTests compiles and runs this and compares the output with the C# definitions.
 *
 * Output lines:
 *   struct <name> <sizeof>
 *   field <struct> <field> <offsetof> <sizeof field> <signed 0|1, or - if not an integer>
 *   const <name> <value> <sizeof> <signed 0|1>
 *   runtime_version <major> <minor> <release of the linked libucp>
 *
 * A field of an anonymous union is printed as <union field>.<member>. Every C# struct named
 * ucp_* or ucs_* and every UcpConstants field must appear here (the test checks both
 * directions), with every field of each struct.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include <ucp/api/ucp.h>

#define STRUCT(T) printf("struct %s %zu\n", #T, sizeof(T))

/* Whether an integer is signed; "-" for pointers, arrays, structs and unions. Enum types are
   compatible with the integer type GCC chose for them: unsigned int for enums without negative
   values, signed char for the packed ucs_status_t. */
#define SIGNEDNESS(X)                                                          \
  _Generic((X), char: (CHAR_MIN < 0 ? "1" : "0"), signed char: "1",          \
           unsigned char: "0", short: "1", unsigned short: "0", int: "1",     \
           unsigned int: "0", long: "1", unsigned long: "0", long long: "1",  \
           unsigned long long: "0", default: "-")
#define FIELD(T, F)                                                            \
  printf("field %s %s %zu %zu %s\n", #T, #F, offsetof(T, F),                  \
         sizeof(((T *)0)->F), SIGNEDNESS(((T *)0)->F))

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

static void structs(void) {
  STRUCT(ucp_params_t);
  FIELD(ucp_params_t, field_mask);
  FIELD(ucp_params_t, features);
  FIELD(ucp_params_t, request_size);
  FIELD(ucp_params_t, request_init);
  FIELD(ucp_params_t, request_cleanup);
  FIELD(ucp_params_t, tag_sender_mask);
  FIELD(ucp_params_t, mt_workers_shared);
  FIELD(ucp_params_t, estimated_num_eps);
  FIELD(ucp_params_t, estimated_num_ppn);
  FIELD(ucp_params_t, name);

  STRUCT(ucs_cpu_set_t);
  FIELD(ucs_cpu_set_t, ucs_bits);

  STRUCT(ucp_worker_params_t);
  FIELD(ucp_worker_params_t, field_mask);
  FIELD(ucp_worker_params_t, thread_mode);
  FIELD(ucp_worker_params_t, cpu_mask);
  FIELD(ucp_worker_params_t, events);
  FIELD(ucp_worker_params_t, user_data);
  FIELD(ucp_worker_params_t, event_fd);
  FIELD(ucp_worker_params_t, flags);
  FIELD(ucp_worker_params_t, name);
  FIELD(ucp_worker_params_t, am_alignment);
  FIELD(ucp_worker_params_t, client_id);

  STRUCT(ucp_err_handler_t);
  FIELD(ucp_err_handler_t, cb);
  FIELD(ucp_err_handler_t, arg);

  STRUCT(ucs_sock_addr_t);
  FIELD(ucs_sock_addr_t, addr);
  FIELD(ucs_sock_addr_t, addrlen);

  STRUCT(ucp_ep_params_t);
  FIELD(ucp_ep_params_t, field_mask);
  FIELD(ucp_ep_params_t, address);
  FIELD(ucp_ep_params_t, err_mode);
  FIELD(ucp_ep_params_t, err_handler);
  FIELD(ucp_ep_params_t, user_data);
  FIELD(ucp_ep_params_t, flags);
  FIELD(ucp_ep_params_t, sockaddr);
  FIELD(ucp_ep_params_t, conn_request);
  FIELD(ucp_ep_params_t, name);
  FIELD(ucp_ep_params_t, local_sockaddr);

  STRUCT(ucp_mem_map_params_t);
  FIELD(ucp_mem_map_params_t, field_mask);
  FIELD(ucp_mem_map_params_t, address);
  FIELD(ucp_mem_map_params_t, length);
  FIELD(ucp_mem_map_params_t, flags);
  FIELD(ucp_mem_map_params_t, prot);
  FIELD(ucp_mem_map_params_t, memory_type);

  STRUCT(ucp_tag_recv_info_t);
  FIELD(ucp_tag_recv_info_t, sender_tag);
  FIELD(ucp_tag_recv_info_t, length);

  STRUCT(ucp_request_param_t);
  FIELD(ucp_request_param_t, op_attr_mask);
  FIELD(ucp_request_param_t, flags);
  FIELD(ucp_request_param_t, request);
  FIELD(ucp_request_param_t, cb);
  FIELD(ucp_request_param_t, cb.send);
  FIELD(ucp_request_param_t, cb.recv);
  FIELD(ucp_request_param_t, cb.recv_stream);
  FIELD(ucp_request_param_t, cb.recv_am);
  FIELD(ucp_request_param_t, datatype);
  FIELD(ucp_request_param_t, user_data);
  FIELD(ucp_request_param_t, reply_buffer);
  FIELD(ucp_request_param_t, memory_type);
  FIELD(ucp_request_param_t, recv_info);
  FIELD(ucp_request_param_t, recv_info.length);
  FIELD(ucp_request_param_t, recv_info.tag_info);
  FIELD(ucp_request_param_t, memh);

  STRUCT(ucp_request_attr_t);
  FIELD(ucp_request_attr_t, field_mask);
  FIELD(ucp_request_attr_t, debug_string);
  FIELD(ucp_request_attr_t, debug_string_size);
  FIELD(ucp_request_attr_t, status);
  FIELD(ucp_request_attr_t, mem_type);

  STRUCT(ucp_lib_attr_t);
  FIELD(ucp_lib_attr_t, field_mask);
  FIELD(ucp_lib_attr_t, max_thread_level);

  STRUCT(ucp_context_attr_t);
  FIELD(ucp_context_attr_t, field_mask);
  FIELD(ucp_context_attr_t, request_size);
  FIELD(ucp_context_attr_t, thread_mode);
  FIELD(ucp_context_attr_t, memory_types);
  FIELD(ucp_context_attr_t, name);

  STRUCT(ucp_worker_attr_t);
  FIELD(ucp_worker_attr_t, field_mask);
  FIELD(ucp_worker_attr_t, thread_mode);
  FIELD(ucp_worker_attr_t, address_flags);
  FIELD(ucp_worker_attr_t, address);
  FIELD(ucp_worker_attr_t, address_length);
  FIELD(ucp_worker_attr_t, max_am_header);
  FIELD(ucp_worker_attr_t, name);
  FIELD(ucp_worker_attr_t, max_debug_string);

  STRUCT(ucp_mem_attr_t);
  FIELD(ucp_mem_attr_t, field_mask);
  FIELD(ucp_mem_attr_t, address);
  FIELD(ucp_mem_attr_t, length);
  FIELD(ucp_mem_attr_t, mem_type);

  STRUCT(ucp_ep_attr_t);
  FIELD(ucp_ep_attr_t, field_mask);
  FIELD(ucp_ep_attr_t, name);
  FIELD(ucp_ep_attr_t, local_sockaddr);
  FIELD(ucp_ep_attr_t, remote_sockaddr);
}

static void constants(void) {
  CONST(UCP_API_MAJOR);
  CONST(UCP_API_MINOR);

  CONST(UCP_ENTITY_NAME_MAX);
  CONST(UCS_CPU_SETSIZE);

  CONST(UCP_PARAM_FIELD_FEATURES);
  CONST(UCP_PARAM_FIELD_REQUEST_SIZE);
  CONST(UCP_PARAM_FIELD_REQUEST_INIT);
  CONST(UCP_PARAM_FIELD_REQUEST_CLEANUP);
  CONST(UCP_PARAM_FIELD_TAG_SENDER_MASK);
  CONST(UCP_PARAM_FIELD_MT_WORKERS_SHARED);
  CONST(UCP_PARAM_FIELD_ESTIMATED_NUM_EPS);
  CONST(UCP_PARAM_FIELD_ESTIMATED_NUM_PPN);
  CONST(UCP_PARAM_FIELD_NAME);

  CONST(UCP_FEATURE_TAG);
  CONST(UCP_FEATURE_RMA);
  CONST(UCP_FEATURE_AMO32);
  CONST(UCP_FEATURE_AMO64);
  CONST(UCP_FEATURE_WAKEUP);
  CONST(UCP_FEATURE_STREAM);
  CONST(UCP_FEATURE_AM);

  CONST(UCP_WORKER_PARAM_FIELD_THREAD_MODE);
  CONST(UCP_WORKER_PARAM_FIELD_CPU_MASK);
  CONST(UCP_WORKER_PARAM_FIELD_EVENTS);
  CONST(UCP_WORKER_PARAM_FIELD_USER_DATA);
  CONST(UCP_WORKER_PARAM_FIELD_EVENT_FD);
  CONST(UCP_WORKER_PARAM_FIELD_FLAGS);
  CONST(UCP_WORKER_PARAM_FIELD_NAME);
  CONST(UCP_WORKER_PARAM_FIELD_AM_ALIGNMENT);
  CONST(UCP_WORKER_PARAM_FIELD_CLIENT_ID);

  CONST(UCP_WORKER_FLAG_IGNORE_REQUEST_LEAK);

  CONST(UCP_WAKEUP_RMA);
  CONST(UCP_WAKEUP_AMO);
  CONST(UCP_WAKEUP_TAG_SEND);
  CONST(UCP_WAKEUP_TAG_RECV);
  CONST(UCP_WAKEUP_TX);
  CONST(UCP_WAKEUP_RX);
  CONST(UCP_WAKEUP_EDGE);

  CONST(UCS_THREAD_MODE_SINGLE);
  CONST(UCS_THREAD_MODE_SERIALIZED);
  CONST(UCS_THREAD_MODE_MULTI);

  CONST(UCP_EP_PARAM_FIELD_REMOTE_ADDRESS);
  CONST(UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE);
  CONST(UCP_EP_PARAM_FIELD_ERR_HANDLER);
  CONST(UCP_EP_PARAM_FIELD_USER_DATA);
  CONST(UCP_EP_PARAM_FIELD_SOCK_ADDR);
  CONST(UCP_EP_PARAM_FIELD_FLAGS);
  CONST(UCP_EP_PARAM_FIELD_CONN_REQUEST);
  CONST(UCP_EP_PARAM_FIELD_NAME);
  CONST(UCP_EP_PARAM_FIELD_LOCAL_SOCK_ADDR);

  CONST(UCP_ERR_HANDLING_MODE_NONE);
  CONST(UCP_ERR_HANDLING_MODE_PEER);

  CONST(UCP_EP_CLOSE_FLAG_FORCE);
  CONST(UCP_EP_CLOSE_MODE_FORCE);
  CONST(UCP_EP_CLOSE_MODE_FLUSH);

  CONST(UCP_MEM_MAP_PARAM_FIELD_ADDRESS);
  CONST(UCP_MEM_MAP_PARAM_FIELD_LENGTH);
  CONST(UCP_MEM_MAP_PARAM_FIELD_FLAGS);
  CONST(UCP_MEM_MAP_PARAM_FIELD_PROT);
  CONST(UCP_MEM_MAP_PARAM_FIELD_MEMORY_TYPE);

  CONST(UCP_MEM_MAP_NONBLOCK);
  CONST(UCP_MEM_MAP_ALLOCATE);
  CONST(UCP_MEM_MAP_FIXED);

  CONST(UCP_MEM_MAP_PROT_LOCAL_READ);
  CONST(UCP_MEM_MAP_PROT_LOCAL_WRITE);
  CONST(UCP_MEM_MAP_PROT_REMOTE_READ);
  CONST(UCP_MEM_MAP_PROT_REMOTE_WRITE);

  CONST(UCP_OP_ATTR_FIELD_REQUEST);
  CONST(UCP_OP_ATTR_FIELD_CALLBACK);
  CONST(UCP_OP_ATTR_FIELD_USER_DATA);
  CONST(UCP_OP_ATTR_FIELD_DATATYPE);
  CONST(UCP_OP_ATTR_FIELD_FLAGS);
  CONST(UCP_OP_ATTR_FIELD_REPLY_BUFFER);
  CONST(UCP_OP_ATTR_FIELD_MEMORY_TYPE);
  CONST(UCP_OP_ATTR_FIELD_RECV_INFO);
  CONST(UCP_OP_ATTR_FIELD_MEMH);
  CONST(UCP_OP_ATTR_FLAG_NO_IMM_CMPL);
  CONST(UCP_OP_ATTR_FLAG_FAST_CMPL);
  CONST(UCP_OP_ATTR_FLAG_FORCE_IMM_CMPL);
  CONST(UCP_OP_ATTR_FLAG_MULTI_SEND);

  CONST(UCP_DATATYPE_CONTIG);
  CONST(UCP_DATATYPE_SHIFT);

  CONST(UCP_REQUEST_ATTR_FIELD_INFO_STRING);
  CONST(UCP_REQUEST_ATTR_FIELD_INFO_STRING_SIZE);
  CONST(UCP_REQUEST_ATTR_FIELD_STATUS);
  CONST(UCP_REQUEST_ATTR_FIELD_MEM_TYPE);

  CONST(UCP_LIB_ATTR_FIELD_MAX_THREAD_LEVEL);

  CONST(UCP_ATTR_FIELD_REQUEST_SIZE);
  CONST(UCP_ATTR_FIELD_THREAD_MODE);
  CONST(UCP_ATTR_FIELD_MEMORY_TYPES);
  CONST(UCP_ATTR_FIELD_NAME);

  CONST(UCP_WORKER_ATTR_FIELD_THREAD_MODE);
  CONST(UCP_WORKER_ATTR_FIELD_ADDRESS);
  CONST(UCP_WORKER_ATTR_FIELD_ADDRESS_FLAGS);
  CONST(UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER);
  CONST(UCP_WORKER_ATTR_FIELD_NAME);
  CONST(UCP_WORKER_ATTR_FIELD_MAX_INFO_STRING);

  CONST(UCP_WORKER_ADDRESS_FLAG_NET_ONLY);

  CONST(UCP_MEM_ATTR_FIELD_ADDRESS);
  CONST(UCP_MEM_ATTR_FIELD_LENGTH);
  CONST(UCP_MEM_ATTR_FIELD_MEM_TYPE);

  CONST(UCP_EP_ATTR_FIELD_NAME);
  CONST(UCP_EP_ATTR_FIELD_LOCAL_SOCKADDR);
  CONST(UCP_EP_ATTR_FIELD_REMOTE_SOCKADDR);

  CONST(UCS_MEMORY_TYPE_HOST);
  CONST(UCS_MEMORY_TYPE_CUDA);
  CONST(UCS_MEMORY_TYPE_CUDA_MANAGED);
  CONST(UCS_MEMORY_TYPE_ROCM);
  CONST(UCS_MEMORY_TYPE_ROCM_MANAGED);
  CONST(UCS_MEMORY_TYPE_LAST);
  CONST(UCS_MEMORY_TYPE_UNKNOWN);

  CONST(UCS_OK);
  CONST(UCS_INPROGRESS);
  CONST(UCS_ERR_NO_MESSAGE);
  CONST(UCS_ERR_NO_RESOURCE);
  CONST(UCS_ERR_IO_ERROR);
  CONST(UCS_ERR_NO_MEMORY);
  CONST(UCS_ERR_INVALID_PARAM);
  CONST(UCS_ERR_UNREACHABLE);
  CONST(UCS_ERR_INVALID_ADDR);
  CONST(UCS_ERR_NOT_IMPLEMENTED);
  CONST(UCS_ERR_MESSAGE_TRUNCATED);
  CONST(UCS_ERR_NO_PROGRESS);
  CONST(UCS_ERR_BUFFER_TOO_SMALL);
  CONST(UCS_ERR_NO_ELEM);
  CONST(UCS_ERR_SOME_CONNECTS_FAILED);
  CONST(UCS_ERR_NO_DEVICE);
  CONST(UCS_ERR_BUSY);
  CONST(UCS_ERR_CANCELED);
  CONST(UCS_ERR_SHMEM_SEGMENT);
  CONST(UCS_ERR_ALREADY_EXISTS);
  CONST(UCS_ERR_OUT_OF_RANGE);
  CONST(UCS_ERR_TIMED_OUT);
  CONST(UCS_ERR_EXCEEDS_LIMIT);
  CONST(UCS_ERR_UNSUPPORTED);
  CONST(UCS_ERR_REJECTED);
  CONST(UCS_ERR_NOT_CONNECTED);
  CONST(UCS_ERR_CONNECTION_RESET);
  CONST(UCS_ERR_FIRST_LINK_FAILURE);
  CONST(UCS_ERR_LAST_LINK_FAILURE);
  CONST(UCS_ERR_FIRST_ENDPOINT_FAILURE);
  CONST(UCS_ERR_ENDPOINT_TIMEOUT);
  CONST(UCS_ERR_LAST_ENDPOINT_FAILURE);
  CONST(UCS_ERR_LAST);
}

int main(void) {
  unsigned major, minor, release;

  structs();
  constants();
  /* The library the plugin loads at run time must be the one these headers describe. */
  ucp_get_version(&major, &minor, &release);
  printf("runtime_version %u %u %u\n", major, minor, release);
  return 0;
}
