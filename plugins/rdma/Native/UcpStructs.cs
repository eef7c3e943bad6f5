// Blittable mirrors of the UCX 1.13.1 ucp C structs (Debian bookworm, x86-64; ucp.h, ucp_def.h,
// ucs/config/types.h, ucs/type/cpu_set.h). Struct and field names are exactly the C names so that the
// layout test (tests/Plexus.Transport.Rdma.Tests/Native/StructLayoutTests.cs) can compare every size,
// offset and integer signedness against the real headers by name; padding fields we add start with "_pad"
// (none is needed: LayoutKind.Sequential inserts the same alignment padding as the C compiler).
// Conventions: size_t -> nuint, uint64_t -> ulong, unsigned -> uint, int -> int; C enums -> uint, the
// type GCC gives an enum without negative values (values in UcpConstants, which convert implicitly);
// ucs_status_t -> sbyte (a packed enum, one signed byte); function pointers -> nint; opaque handles and
// pointers to opaque UCX structs (ucp_address_t *, ucp_mem_h, ucp_conn_request_h) -> nint, as in Ucp.cs;
// other data pointers -> typed pointers (void * for user data and memory, byte * for C strings);
// fixed C arrays -> fixed buffers. An anonymous C union is a nested LayoutKind.Explicit struct.

using System.Runtime.InteropServices;

#pragma warning disable IDE1006 // Names mirror the C headers; the layout test matches them by name.

namespace Plexus.Transport.Rdma.Native;

/// <summary><c>ucp_params_t</c>: the context's features and request-allocation hints, for <c>ucp_init_version</c>. 80 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_params_t
{
    /// <summary>Which fields are set: <c>UCP_PARAM_FIELD_*</c>.</summary>
    public ulong field_mask;
    /// <summary><c>UCP_FEATURE_*</c>.</summary>
    public ulong features;
    public nuint request_size;
    /// <summary><c>void (*)(void *request)</c></summary>
    public nint request_init;
    /// <summary><c>void (*)(void *request)</c></summary>
    public nint request_cleanup;
    public ulong tag_sender_mask;
    public int mt_workers_shared;
    public nuint estimated_num_eps;
    public nuint estimated_num_ppn;
    /// <summary>A NUL-terminated name, copied by UCX.</summary>
    public byte* name;
}

/// <summary><c>ucs_cpu_set_t</c>: a CPU bitmap of UCS_CPU_SETSIZE (1024) bits in <c>unsigned long</c> words. 128 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucs_cpu_set_t
{
    public fixed ulong ucs_bits[UcpConstants.UCS_CPU_SETSIZE / 64];
}

/// <summary><c>ucp_worker_params_t</c>: thread mode, CPU affinity, wake-up events and name of a worker, for <c>ucp_worker_create</c>. 200 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_worker_params_t
{
    /// <summary>Which fields are set: <c>UCP_WORKER_PARAM_FIELD_*</c>.</summary>
    public ulong field_mask;
    /// <summary><c>ucs_thread_mode_t</c>: <c>UCS_THREAD_MODE_*</c>.</summary>
    public uint thread_mode;
    public ucs_cpu_set_t cpu_mask;
    /// <summary><c>UCP_WAKEUP_*</c>.</summary>
    public uint events;
    public void* user_data;
    public int event_fd;
    /// <summary><c>ucp_worker_flags_t</c> bits: <c>UCP_WORKER_FLAG_*</c>.</summary>
    public ulong flags;
    public byte* name;
    public nuint am_alignment;
    public ulong client_id;
}

/// <summary><c>ucp_err_handler_t</c> (<c>struct ucp_err_handler</c>): an endpoint's error callback and its argument. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_err_handler_t
{
    /// <summary>
    /// <c>void (*)(void *arg, ucp_ep_h ep, ucs_status_t status)</c>; <c>status</c> is one signed byte
    /// (<c>delegate* unmanaged&lt;void*, nint, sbyte, void&gt;</c>).
    /// </summary>
    public nint cb;
    public void* arg;
}

/// <summary><c>ucs_sock_addr_t</c> (<c>struct ucs_sock_addr</c>): a borrowed socket address. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucs_sock_addr_t
{
    /// <summary><c>const struct sockaddr *</c>.</summary>
    public void* addr;
    /// <summary><c>socklen_t</c>.</summary>
    public uint addrlen;
}

/// <summary><c>ucp_ep_params_t</c>: how to reach the peer and handle its failure, for <c>ucp_ep_create</c>. 104 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_ep_params_t
{
    /// <summary>Which fields are set: <c>UCP_EP_PARAM_FIELD_*</c>.</summary>
    public ulong field_mask;
    /// <summary><c>const ucp_address_t *</c>: the peer worker's address (opaque bytes from <c>ucp_worker_get_address</c>).</summary>
    public nint address;
    /// <summary><c>ucp_err_handling_mode_t</c>: <c>UCP_ERR_HANDLING_MODE_*</c>.</summary>
    public uint err_mode;
    public ucp_err_handler_t err_handler;
    public void* user_data;
    /// <summary><c>UCP_EP_PARAMS_FLAGS_*</c>.</summary>
    public uint flags;
    public ucs_sock_addr_t sockaddr;
    /// <summary><c>ucp_conn_request_h</c>.</summary>
    public nint conn_request;
    public byte* name;
    public ucs_sock_addr_t local_sockaddr;
}

/// <summary><c>ucp_mem_map_params_t</c>: memory to register or allocate, for <c>ucp_mem_map</c>. 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_mem_map_params_t
{
    /// <summary>Which fields are set: <c>UCP_MEM_MAP_PARAM_FIELD_*</c>.</summary>
    public ulong field_mask;
    public void* address;
    public nuint length;
    /// <summary><c>UCP_MEM_MAP_NONBLOCK</c>, <c>UCP_MEM_MAP_ALLOCATE</c>, <c>UCP_MEM_MAP_FIXED</c>.</summary>
    public uint flags;
    /// <summary><c>UCP_MEM_MAP_PROT_*</c>.</summary>
    public uint prot;
    /// <summary><c>ucs_memory_type_t</c>: <c>UCS_MEMORY_TYPE_*</c>.</summary>
    public uint memory_type;
}

/// <summary><c>ucp_tag_recv_info_t</c> (<c>struct ucp_tag_recv_info</c>): what a tagged receive got. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ucp_tag_recv_info_t
{
    /// <summary><c>ucp_tag_t</c>.</summary>
    public ulong sender_tag;
    public nuint length;
}

/// <summary>
/// <c>ucp_request_param_t</c>: the options of every <c>*_nbx</c> call (callback, user data, flags, memory handle).
/// 72 bytes, <c>memh</c> at 64. <c>cb</c> and <c>recv_info</c> are anonymous unions in C.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_request_param_t
{
    /// <summary>Which fields are set and operation flags: <c>UCP_OP_ATTR_FIELD_*</c>, <c>UCP_OP_ATTR_FLAG_*</c>.</summary>
    public uint op_attr_mask;
    /// <summary>Operation-specific flags, e.g. <c>UCP_EP_CLOSE_FLAG_FORCE</c>.</summary>
    public uint flags;
    /// <summary>A request the caller allocated (<c>UCP_OP_ATTR_FIELD_REQUEST</c>).</summary>
    public void* request;
    public cb_union cb;
    /// <summary><c>ucp_datatype_t</c>; unset means <c>ucp_dt_make_contig(1)</c>, bytes.</summary>
    public ulong datatype;
    public void* user_data;
    public void* reply_buffer;
    /// <summary><c>ucs_memory_type_t</c>: <c>UCS_MEMORY_TYPE_*</c>.</summary>
    public uint memory_type;
    public recv_info_union recv_info;
    /// <summary><c>ucp_mem_h</c> of the local buffer (<c>UCP_OP_ATTR_FIELD_MEMH</c>).</summary>
    public nint memh;

    /// <summary>The completion callback; which member applies depends on the call. Every <c>status</c> is one signed byte.</summary>
    [StructLayout(LayoutKind.Explicit)]
    internal struct cb_union
    {
        /// <summary><c>ucp_send_nbx_callback_t</c>: <c>void (*)(void *request, ucs_status_t status, void *user_data)</c> (put, get, flush, close).</summary>
        [FieldOffset(0)] public nint send;
        /// <summary><c>ucp_tag_recv_nbx_callback_t</c>: <c>void (*)(void *request, ucs_status_t status, const ucp_tag_recv_info_t *tag_info, void *user_data)</c>.</summary>
        [FieldOffset(0)] public nint recv;
        /// <summary><c>ucp_stream_recv_nbx_callback_t</c>: <c>void (*)(void *request, ucs_status_t status, size_t length, void *user_data)</c>.</summary>
        [FieldOffset(0)] public nint recv_stream;
        /// <summary><c>ucp_am_recv_data_nbx_callback_t</c>: <c>void (*)(void *request, ucs_status_t status, size_t length, void *user_data)</c>.</summary>
        [FieldOffset(0)] public nint recv_am;
    }

    /// <summary>Where a receive reports what it got.</summary>
    [StructLayout(LayoutKind.Explicit)]
    internal unsafe struct recv_info_union
    {
        /// <summary>Length of the received message (non-tagged receives).</summary>
        [FieldOffset(0)] public nuint* length;
        /// <summary>Tag and length of the received message (<c>ucp_tag_recv_nbx</c>).</summary>
        [FieldOffset(0)] public ucp_tag_recv_info_t* tag_info;
    }
}

/// <summary><c>ucp_request_attr_t</c>: what <c>ucp_request_query</c> reports about a request. 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_request_attr_t
{
    /// <summary>Which fields to fill: <c>UCP_REQUEST_ATTR_FIELD_*</c>.</summary>
    public ulong field_mask;
    public byte* debug_string;
    public nuint debug_string_size;
    /// <summary><c>ucs_status_t</c>: a packed enum, one signed byte.</summary>
    public sbyte status;
    /// <summary><c>ucs_memory_type_t</c>.</summary>
    public uint mem_type;
}

/// <summary><c>ucp_lib_attr_t</c>: what <c>ucp_lib_query</c> reports about the library. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ucp_lib_attr_t
{
    /// <summary>Which fields to fill: <c>UCP_LIB_ATTR_FIELD_*</c>.</summary>
    public ulong field_mask;
    /// <summary><c>ucs_thread_mode_t</c>: the highest thread mode the build supports.</summary>
    public uint max_thread_level;
}

/// <summary><c>ucp_context_attr_t</c>: what <c>ucp_context_query</c> reports about a context. 64 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_context_attr_t
{
    /// <summary>Which fields to fill: <c>UCP_ATTR_FIELD_*</c>.</summary>
    public ulong field_mask;
    public nuint request_size;
    /// <summary><c>ucs_thread_mode_t</c>.</summary>
    public uint thread_mode;
    /// <summary>A bit per supported <c>ucs_memory_type_t</c>.</summary>
    public ulong memory_types;
    /// <summary>NUL-terminated.</summary>
    public fixed byte name[UcpConstants.UCP_ENTITY_NAME_MAX];
}

/// <summary><c>ucp_worker_attr_t</c>: what <c>ucp_worker_query</c> reports about a worker. 80 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_worker_attr_t
{
    /// <summary>Which fields to fill: <c>UCP_WORKER_ATTR_FIELD_*</c>.</summary>
    public ulong field_mask;
    /// <summary><c>ucs_thread_mode_t</c>: the mode the worker was granted.</summary>
    public uint thread_mode;
    /// <summary><c>UCP_WORKER_ADDRESS_FLAG_*</c>, an input to the address query.</summary>
    public uint address_flags;
    /// <summary><c>ucp_address_t *</c>, released with <c>ucp_worker_release_address</c>.</summary>
    public nint address;
    public nuint address_length;
    public nuint max_am_header;
    /// <summary>NUL-terminated.</summary>
    public fixed byte name[UcpConstants.UCP_ENTITY_NAME_MAX];
    public nuint max_debug_string;
}

/// <summary><c>ucp_mem_attr_t</c>: what <c>ucp_mem_query</c> reports about mapped memory. 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_mem_attr_t
{
    /// <summary>Which fields to fill: <c>UCP_MEM_ATTR_FIELD_*</c>.</summary>
    public ulong field_mask;
    public void* address;
    public nuint length;
    /// <summary><c>ucs_memory_type_t</c>.</summary>
    public uint mem_type;
}

/// <summary>
/// <c>ucp_ep_attr_t</c>: what <c>ucp_ep_query</c> reports about an endpoint. 296 bytes. The socket addresses are
/// <c>struct sockaddr_storage</c> (128 bytes, 8-byte aligned; both offsets are multiples of 8).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ucp_ep_attr_t
{
    /// <summary>Which fields to fill: <c>UCP_EP_ATTR_FIELD_*</c>.</summary>
    public ulong field_mask;
    /// <summary>NUL-terminated.</summary>
    public fixed byte name[UcpConstants.UCP_ENTITY_NAME_MAX];
    public fixed byte local_sockaddr[128];
    public fixed byte remote_sockaddr[128];
}
