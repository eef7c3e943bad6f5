// C constants of the UCX 1.13.1 ucp API (ucp.h, ucp_def.h, ucp_version.h, ucs/type/status.h,
// ucs/type/thread_mode.h, ucs/memory/memory_type.h, ucs/type/cpu_set.h). Each name is exactly the C
// macro or enumerator name and each type is the C expression's type mapped to C#, so the layout test
// (tests/Plexus.Transport.Rdma.Tests/Native/StructLayoutTests.cs) can compare value, size and signedness
// with what the C compiler computes. Every one of them is an int in C: the bit flags are written with
// UCS_BIT(i) (1ul << i, an unsigned long), but as enumerators whose values fit an int they take the type
// int. Every constant here must be printed by tests/Plexus.Transport.Rdma.Tests/Native/layouts.c; the
// test fails otherwise.
//
// The ucs_status_t values are ints, but the ucs_status_t *type* is a packed enum: one signed byte.
// A function returning ucs_status_t leaves only %al defined (libucp zero-extends it into %eax, so
// UCS_ERR_INVALID_PARAM reads back as 251 through an int); bind such returns, and status parameters of
// callbacks, as sbyte.

#pragma warning disable CA1707, IDE1006 // Names mirror the C headers; the layout test matches them by name.

namespace Plexus.Transport.Rdma.Native;

internal static class UcpConstants
{
    // API version of the headers (ucp_version.h), passed to ucp_init_version (ucp_init is a static inline).
    public const int UCP_API_MAJOR = 1;
    public const int UCP_API_MINOR = 13;

    // Sizes.
    public const int UCP_ENTITY_NAME_MAX = 32;
    public const int UCS_CPU_SETSIZE = 1024;

    // ucp_params_t.field_mask (enum ucp_params_field).
    public const int UCP_PARAM_FIELD_FEATURES = 1 << 0;
    public const int UCP_PARAM_FIELD_REQUEST_SIZE = 1 << 1;
    public const int UCP_PARAM_FIELD_REQUEST_INIT = 1 << 2;
    public const int UCP_PARAM_FIELD_REQUEST_CLEANUP = 1 << 3;
    public const int UCP_PARAM_FIELD_TAG_SENDER_MASK = 1 << 4;
    public const int UCP_PARAM_FIELD_MT_WORKERS_SHARED = 1 << 5;
    public const int UCP_PARAM_FIELD_ESTIMATED_NUM_EPS = 1 << 6;
    public const int UCP_PARAM_FIELD_ESTIMATED_NUM_PPN = 1 << 7;
    public const int UCP_PARAM_FIELD_NAME = 1 << 8;

    // ucp_params_t.features (enum ucp_feature).
    public const int UCP_FEATURE_TAG = 1 << 0;
    public const int UCP_FEATURE_RMA = 1 << 1;
    public const int UCP_FEATURE_AMO32 = 1 << 2;
    public const int UCP_FEATURE_AMO64 = 1 << 3;
    public const int UCP_FEATURE_WAKEUP = 1 << 4;
    public const int UCP_FEATURE_STREAM = 1 << 5;
    public const int UCP_FEATURE_AM = 1 << 6;

    // ucp_worker_params_t.field_mask (enum ucp_worker_params_field).
    public const int UCP_WORKER_PARAM_FIELD_THREAD_MODE = 1 << 0;
    public const int UCP_WORKER_PARAM_FIELD_CPU_MASK = 1 << 1;
    public const int UCP_WORKER_PARAM_FIELD_EVENTS = 1 << 2;
    public const int UCP_WORKER_PARAM_FIELD_USER_DATA = 1 << 3;
    public const int UCP_WORKER_PARAM_FIELD_EVENT_FD = 1 << 4;
    public const int UCP_WORKER_PARAM_FIELD_FLAGS = 1 << 5;
    public const int UCP_WORKER_PARAM_FIELD_NAME = 1 << 6;
    public const int UCP_WORKER_PARAM_FIELD_AM_ALIGNMENT = 1 << 7;
    public const int UCP_WORKER_PARAM_FIELD_CLIENT_ID = 1 << 8;

    // ucp_worker_params_t.flags (ucp_worker_flags_t).
    public const int UCP_WORKER_FLAG_IGNORE_REQUEST_LEAK = 1 << 0;

    // ucp_worker_params_t.events (ucp_wakeup_event_t).
    public const int UCP_WAKEUP_RMA = 1 << 0;
    public const int UCP_WAKEUP_AMO = 1 << 1;
    public const int UCP_WAKEUP_TAG_SEND = 1 << 2;
    public const int UCP_WAKEUP_TAG_RECV = 1 << 3;
    public const int UCP_WAKEUP_TX = 1 << 10;
    public const int UCP_WAKEUP_RX = 1 << 11;
    public const int UCP_WAKEUP_EDGE = 1 << 16;

    // ucs_thread_mode_t (worker and context thread modes).
    public const int UCS_THREAD_MODE_SINGLE = 0;
    public const int UCS_THREAD_MODE_SERIALIZED = 1;
    public const int UCS_THREAD_MODE_MULTI = 2;

    // ucp_ep_params_t.field_mask (enum ucp_ep_params_field).
    public const int UCP_EP_PARAM_FIELD_REMOTE_ADDRESS = 1 << 0;
    public const int UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE = 1 << 1;
    public const int UCP_EP_PARAM_FIELD_ERR_HANDLER = 1 << 2;
    public const int UCP_EP_PARAM_FIELD_USER_DATA = 1 << 3;
    public const int UCP_EP_PARAM_FIELD_SOCK_ADDR = 1 << 4;
    public const int UCP_EP_PARAM_FIELD_FLAGS = 1 << 5;
    public const int UCP_EP_PARAM_FIELD_CONN_REQUEST = 1 << 6;
    public const int UCP_EP_PARAM_FIELD_NAME = 1 << 7;
    public const int UCP_EP_PARAM_FIELD_LOCAL_SOCK_ADDR = 1 << 8;

    // ucp_ep_params_t.err_mode (ucp_err_handling_mode_t).
    public const int UCP_ERR_HANDLING_MODE_NONE = 0;
    public const int UCP_ERR_HANDLING_MODE_PEER = 1;

    // ucp_ep_close_nbx: ucp_request_param_t.flags (ucp_ep_close_flags_t); ucp_ep_close_nb's mode (enum ucp_ep_close_mode).
    public const int UCP_EP_CLOSE_FLAG_FORCE = 1 << 0;
    public const int UCP_EP_CLOSE_MODE_FORCE = 0;
    public const int UCP_EP_CLOSE_MODE_FLUSH = 1;

    // ucp_mem_map_params_t.field_mask (enum ucp_mem_map_params_field).
    public const int UCP_MEM_MAP_PARAM_FIELD_ADDRESS = 1 << 0;
    public const int UCP_MEM_MAP_PARAM_FIELD_LENGTH = 1 << 1;
    public const int UCP_MEM_MAP_PARAM_FIELD_FLAGS = 1 << 2;
    public const int UCP_MEM_MAP_PARAM_FIELD_PROT = 1 << 3;
    public const int UCP_MEM_MAP_PARAM_FIELD_MEMORY_TYPE = 1 << 4;

    // ucp_mem_map_params_t.flags (anonymous enum).
    public const int UCP_MEM_MAP_NONBLOCK = 1 << 0;
    public const int UCP_MEM_MAP_ALLOCATE = 1 << 1;
    public const int UCP_MEM_MAP_FIXED = 1 << 2;

    // ucp_mem_map_params_t.prot (anonymous enum).
    public const int UCP_MEM_MAP_PROT_LOCAL_READ = 1 << 0;
    public const int UCP_MEM_MAP_PROT_LOCAL_WRITE = 1 << 1;
    public const int UCP_MEM_MAP_PROT_REMOTE_READ = 1 << 8;
    public const int UCP_MEM_MAP_PROT_REMOTE_WRITE = 1 << 9;

    // ucp_request_param_t.op_attr_mask (ucp_op_attr_t): which fields are set, and operation flags.
    public const int UCP_OP_ATTR_FIELD_REQUEST = 1 << 0;
    public const int UCP_OP_ATTR_FIELD_CALLBACK = 1 << 1;
    public const int UCP_OP_ATTR_FIELD_USER_DATA = 1 << 2;
    public const int UCP_OP_ATTR_FIELD_DATATYPE = 1 << 3;
    public const int UCP_OP_ATTR_FIELD_FLAGS = 1 << 4;
    public const int UCP_OP_ATTR_FIELD_REPLY_BUFFER = 1 << 5;
    public const int UCP_OP_ATTR_FIELD_MEMORY_TYPE = 1 << 6;
    public const int UCP_OP_ATTR_FIELD_RECV_INFO = 1 << 7;
    public const int UCP_OP_ATTR_FIELD_MEMH = 1 << 8;
    public const int UCP_OP_ATTR_FLAG_NO_IMM_CMPL = 1 << 16;
    public const int UCP_OP_ATTR_FLAG_FAST_CMPL = 1 << 17;
    public const int UCP_OP_ATTR_FLAG_FORCE_IMM_CMPL = 1 << 18;
    public const int UCP_OP_ATTR_FLAG_MULTI_SEND = 1 << 19;

    // ucp_request_param_t.datatype: ucp_dt_make_contig(1) == (1 << UCP_DATATYPE_SHIFT) | UCP_DATATYPE_CONTIG, the default.
    public const int UCP_DATATYPE_CONTIG = 0;
    public const int UCP_DATATYPE_SHIFT = 3;

    // ucp_request_attr_t.field_mask (ucp_req_attr_field), for ucp_request_query.
    public const int UCP_REQUEST_ATTR_FIELD_INFO_STRING = 1 << 0;
    public const int UCP_REQUEST_ATTR_FIELD_INFO_STRING_SIZE = 1 << 1;
    public const int UCP_REQUEST_ATTR_FIELD_STATUS = 1 << 2;
    public const int UCP_REQUEST_ATTR_FIELD_MEM_TYPE = 1 << 3;

    // ucp_lib_attr_t.field_mask (enum ucp_lib_attr_field), for ucp_lib_query.
    public const int UCP_LIB_ATTR_FIELD_MAX_THREAD_LEVEL = 1 << 0;

    // ucp_context_attr_t.field_mask (enum ucp_context_attr_field), for ucp_context_query.
    public const int UCP_ATTR_FIELD_REQUEST_SIZE = 1 << 0;
    public const int UCP_ATTR_FIELD_THREAD_MODE = 1 << 1;
    public const int UCP_ATTR_FIELD_MEMORY_TYPES = 1 << 2;
    public const int UCP_ATTR_FIELD_NAME = 1 << 3;

    // ucp_worker_attr_t.field_mask (enum ucp_worker_attr_field), for ucp_worker_query.
    public const int UCP_WORKER_ATTR_FIELD_THREAD_MODE = 1 << 0;
    public const int UCP_WORKER_ATTR_FIELD_ADDRESS = 1 << 1;
    public const int UCP_WORKER_ATTR_FIELD_ADDRESS_FLAGS = 1 << 2;
    public const int UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER = 1 << 3;
    public const int UCP_WORKER_ATTR_FIELD_NAME = 1 << 4;
    public const int UCP_WORKER_ATTR_FIELD_MAX_INFO_STRING = 1 << 5;

    // ucp_worker_attr_t.address_flags (ucp_worker_address_flags_t).
    public const int UCP_WORKER_ADDRESS_FLAG_NET_ONLY = 1 << 0;

    // ucp_mem_attr_t.field_mask (enum ucp_mem_attr_field), for ucp_mem_query.
    public const int UCP_MEM_ATTR_FIELD_ADDRESS = 1 << 0;
    public const int UCP_MEM_ATTR_FIELD_LENGTH = 1 << 1;
    public const int UCP_MEM_ATTR_FIELD_MEM_TYPE = 1 << 2;

    // ucp_ep_attr_t.field_mask (enum ucp_ep_attr_field), for ucp_ep_query.
    public const int UCP_EP_ATTR_FIELD_NAME = 1 << 0;
    public const int UCP_EP_ATTR_FIELD_LOCAL_SOCKADDR = 1 << 1;
    public const int UCP_EP_ATTR_FIELD_REMOTE_SOCKADDR = 1 << 2;

    // ucs_memory_type_t.
    public const int UCS_MEMORY_TYPE_HOST = 0;
    public const int UCS_MEMORY_TYPE_CUDA = 1;
    public const int UCS_MEMORY_TYPE_CUDA_MANAGED = 2;
    public const int UCS_MEMORY_TYPE_ROCM = 3;
    public const int UCS_MEMORY_TYPE_ROCM_MANAGED = 4;
    public const int UCS_MEMORY_TYPE_LAST = 5;
    public const int UCS_MEMORY_TYPE_UNKNOWN = UCS_MEMORY_TYPE_LAST;

    // ucs_status_t: every value (see the note at the top about the type's size).
    public const int UCS_OK = 0;
    public const int UCS_INPROGRESS = 1;
    public const int UCS_ERR_NO_MESSAGE = -1;
    public const int UCS_ERR_NO_RESOURCE = -2;
    public const int UCS_ERR_IO_ERROR = -3;
    public const int UCS_ERR_NO_MEMORY = -4;
    public const int UCS_ERR_INVALID_PARAM = -5;
    public const int UCS_ERR_UNREACHABLE = -6;
    public const int UCS_ERR_INVALID_ADDR = -7;
    public const int UCS_ERR_NOT_IMPLEMENTED = -8;
    public const int UCS_ERR_MESSAGE_TRUNCATED = -9;
    public const int UCS_ERR_NO_PROGRESS = -10;
    public const int UCS_ERR_BUFFER_TOO_SMALL = -11;
    public const int UCS_ERR_NO_ELEM = -12;
    public const int UCS_ERR_SOME_CONNECTS_FAILED = -13;
    public const int UCS_ERR_NO_DEVICE = -14;
    public const int UCS_ERR_BUSY = -15;
    public const int UCS_ERR_CANCELED = -16;
    public const int UCS_ERR_SHMEM_SEGMENT = -17;
    public const int UCS_ERR_ALREADY_EXISTS = -18;
    public const int UCS_ERR_OUT_OF_RANGE = -19;
    public const int UCS_ERR_TIMED_OUT = -20;
    public const int UCS_ERR_EXCEEDS_LIMIT = -21;
    public const int UCS_ERR_UNSUPPORTED = -22;
    public const int UCS_ERR_REJECTED = -23;
    public const int UCS_ERR_NOT_CONNECTED = -24;
    public const int UCS_ERR_CONNECTION_RESET = -25;
    public const int UCS_ERR_FIRST_LINK_FAILURE = -40;
    public const int UCS_ERR_LAST_LINK_FAILURE = -59;
    public const int UCS_ERR_FIRST_ENDPOINT_FAILURE = -60;
    public const int UCS_ERR_ENDPOINT_TIMEOUT = -80;
    public const int UCS_ERR_LAST_ENDPOINT_FAILURE = -89;
    /// <summary>The lowest status; a <c>ucs_status_ptr_t</c> at or above <c>(uintptr_t)UCS_ERR_LAST</c> is an error (<c>UCS_PTR_IS_ERR</c>).</summary>
    public const int UCS_ERR_LAST = -100;
}
