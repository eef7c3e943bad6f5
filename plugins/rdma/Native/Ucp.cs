using System.Runtime.InteropServices;

namespace Plexus.Transport.Rdma.Native;

#pragma warning disable CA1707, IDE1006, CS8981 // The entry points keep the C names, so each can be checked against ucp.h.

/// <summary>
/// The UCX 1.13 <c>ucp</c> functions the bulk transport calls, on the versioned sonames the runtime package ships.
/// Handles are opaque pointers. Every call for a worker (and for the context it shares) is made on the worker's own
/// thread.
/// </summary>
internal static unsafe partial class Ucp
{
    public const string Library = "libucp.so.0";
    public const string StatusLibrary = "libucs.so.0";

    [LibraryImport(Library)]
    public static partial void ucp_get_version(uint* major_version, uint* minor_version, uint* release_number);

    [LibraryImport(Library)]
    public static partial sbyte ucp_config_read(byte* env_prefix, byte* filename, nint* config_p);

    [LibraryImport(Library)]
    public static partial sbyte ucp_config_modify(nint config, byte* name, byte* value);

    [LibraryImport(Library)]
    public static partial void ucp_config_release(nint config);

    [LibraryImport(Library)]
    public static partial sbyte ucp_init_version(uint api_major_version, uint api_minor_version, ucp_params_t* @params, nint config, nint* context_p);

    [LibraryImport(Library)]
    public static partial void ucp_cleanup(nint context_p);

    [LibraryImport(Library)]
    public static partial sbyte ucp_worker_create(nint context, ucp_worker_params_t* @params, nint* worker_p);

    [LibraryImport(Library)]
    public static partial void ucp_worker_destroy(nint worker);

    [LibraryImport(Library)]
    public static partial sbyte ucp_worker_get_address(nint worker, nint* address_p, nuint* address_length_p);

    [LibraryImport(Library)]
    public static partial void ucp_worker_release_address(nint worker, nint address);

    [LibraryImport(Library)]
    public static partial uint ucp_worker_progress(nint worker);

    [LibraryImport(Library)]
    public static partial sbyte ucp_ep_create(nint worker, ucp_ep_params_t* @params, nint* ep_p);

    [LibraryImport(Library)]
    public static partial nint ucp_ep_close_nbx(nint ep, ucp_request_param_t* param);

    [LibraryImport(Library)]
    public static partial sbyte ucp_mem_map(nint context, ucp_mem_map_params_t* @params, nint* memh_p);

    [LibraryImport(Library)]
    public static partial sbyte ucp_mem_query(nint memh, ucp_mem_attr_t* attr);

    [LibraryImport(Library)]
    public static partial sbyte ucp_mem_unmap(nint context, nint memh);

    [LibraryImport(Library)]
    public static partial sbyte ucp_rkey_pack(nint context, nint memh, nint* rkey_buffer_p, nuint* size_p);

    [LibraryImport(Library)]
    public static partial void ucp_rkey_buffer_release(nint rkey_buffer);

    [LibraryImport(Library)]
    public static partial sbyte ucp_ep_rkey_unpack(nint ep, byte* rkey_buffer, nint* rkey_p);

    [LibraryImport(Library)]
    public static partial void ucp_rkey_destroy(nint rkey_p);

    [LibraryImport(Library)]
    public static partial nint ucp_put_nbx(nint ep, void* buffer, nuint count, ulong remote_addr, nint rkey, ucp_request_param_t* param);

    [LibraryImport(Library)]
    public static partial nint ucp_get_nbx(nint ep, void* buffer, nuint count, ulong remote_addr, nint rkey, ucp_request_param_t* param);

    [LibraryImport(Library)]
    public static partial nint ucp_ep_flush_nbx(nint ep, ucp_request_param_t* param);

    [LibraryImport(Library)]
    public static partial sbyte ucp_request_check_status(nint request);

    [LibraryImport(Library)]
    public static partial void ucp_request_cancel(nint worker, nint request);

    [LibraryImport(Library)]
    public static partial void ucp_request_free(nint request);

    [LibraryImport(StatusLibrary)]
    public static partial nint ucs_status_string(sbyte status);

    /// <summary>UCX's text for a status. <c>ucs_status_t</c> is one signed byte (packed enum), so every status here is an <see cref="sbyte"/>.</summary>
    public static string StatusText(int status) => StatusTextCore((sbyte)status);

    private static string StatusTextCore(sbyte status) => Marshal.PtrToStringUTF8(ucs_status_string(status)) ?? $"UCX status {status}";

    /// <summary><c>UCS_PTR_IS_ERR</c>: the "pointer" a non-blocking call returned is an error status.</summary>
    public static bool IsError(nint pointer) => (nuint)pointer >= unchecked((nuint)UcsErrLast);

    /// <summary><c>UCS_PTR_STATUS</c> of an error pointer.</summary>
    public static sbyte ErrorStatus(nint pointer) => (sbyte)(long)pointer;

    // UCS_ERR_LAST: statuses at or above it, cast to a pointer, are errors.
    private const long UcsErrLast = UcpConstants.UCS_ERR_LAST;
}

#pragma warning restore CA1707, IDE1006, CS8981
