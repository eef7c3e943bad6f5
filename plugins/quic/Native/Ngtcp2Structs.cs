// Blittable mirrors of the ngtcp2 0.12.1 C structs (Debian bookworm, x86-64; ngtcp2.h and
// ngtcp2_crypto.h). Struct and field names are exactly the C names so that the layout test
// (tests/Plexus.Transport.Quic.Tests/Native/StructLayoutTests.cs) can compare every size and
// offset against the real headers by name; padding fields we add start with "_pad".
// Conventions: size_t -> nuint, ngtcp2_ssize -> nint, C enums -> int (values in Ngtcp2Constants),
// function pointers -> nint, data pointers -> typed pointers, fixed C arrays -> fixed buffers.
// This file: connection IDs, buffers, socket addresses, paths, packet headers and small handles.
// Ngtcp2Structs.Settings.cs: settings, transport parameters, statistics, close errors.
// Ngtcp2Structs.Callbacks.cs: the callback table.

using System.Runtime.InteropServices;

#pragma warning disable IDE1006 // Names mirror the C headers; the layout test matches them by name.

namespace Plexus.Transport.Quic.Native;

/// <summary><c>ngtcp2_cid</c>: a connection ID of up to NGTCP2_MAX_CIDLEN (20) bytes. 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_cid
{
    public nuint datalen;
    public fixed byte data[Ngtcp2Constants.NGTCP2_MAX_CIDLEN];
    // 4 bytes of trailing padding (size_t alignment), as in C.
}

/// <summary><c>ngtcp2_vec</c>: a pointer and a length. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_vec
{
    public byte* @base;
    public nuint len;
}

/// <summary><c>ngtcp2_sockaddr</c> is glibc's <c>struct sockaddr</c>. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_sockaddr
{
    public ushort sa_family;
    public fixed byte sa_data[14];
}

/// <summary><c>ngtcp2_sockaddr_in</c> is glibc's <c>struct sockaddr_in</c>. 16 bytes; port and address in network byte order.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_sockaddr_in
{
    public ushort sin_family;
    public ushort sin_port;
    /// <summary><c>struct in_addr</c>: one 32-bit address in network byte order.</summary>
    public uint sin_addr;
    public fixed byte sin_zero[8];
}

/// <summary><c>ngtcp2_sockaddr_in6</c> is glibc's <c>struct sockaddr_in6</c>. 28 bytes, 4-byte aligned.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_sockaddr_in6
{
    public ushort sin6_family;
    public ushort sin6_port;
    public uint sin6_flowinfo;
    /// <summary><c>struct in6_addr</c>: 16 address bytes.</summary>
    public fixed byte sin6_addr[16];
    public uint sin6_scope_id;
}

/// <summary>
/// <c>ngtcp2_sockaddr_union</c>: room for either address family. 28 bytes (the size of
/// sockaddr_in6), 4-byte aligned — not 128 like sockaddr_storage.
/// </summary>
[StructLayout(LayoutKind.Explicit)]
internal struct ngtcp2_sockaddr_union
{
    [FieldOffset(0)] public ngtcp2_sockaddr sa;
    [FieldOffset(0)] public ngtcp2_sockaddr_in @in;
    [FieldOffset(0)] public ngtcp2_sockaddr_in6 in6;
}

/// <summary><c>ngtcp2_addr</c>: a borrowed socket address. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_addr
{
    public ngtcp2_sockaddr* addr;
    /// <summary><c>ngtcp2_socklen</c> is <c>socklen_t</c>, 32 bits.</summary>
    public uint addrlen;
}

/// <summary><c>ngtcp2_path</c>: local and remote address of a network path. 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_path
{
    public ngtcp2_addr local;
    public ngtcp2_addr remote;
    public void* user_data;
}

/// <summary>
/// <c>ngtcp2_path_storage</c>: a path plus the storage its addresses point into. 96 bytes.
/// It is self-referential once initialised (ngtcp2_path_storage_init), so it must not be copied
/// or moved afterwards: keep it in pinned or native memory.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ngtcp2_path_storage
{
    public ngtcp2_path path;
    public ngtcp2_sockaddr_union local_addrbuf;
    public ngtcp2_sockaddr_union remote_addrbuf;
}

/// <summary>
/// <c>ngtcp2_pkt_info</c>: per-packet information (the ECN bits). The C struct is declared
/// <c>NGTCP2_ALIGN(8)</c>, so it is 8 bytes although its only field is a uint32_t; C# cannot express
/// the 8-byte alignment, only the size (ngtcp2 only reads the 4-byte field, so it does not matter).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ngtcp2_pkt_info
{
    public uint ecn;
    public uint _pad0;
}

/// <summary><c>ngtcp2_pkt_hd</c>: a decoded QUIC packet header. 112 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ngtcp2_pkt_hd
{
    public ngtcp2_cid dcid;
    public ngtcp2_cid scid;
    public long pkt_num;
    public ngtcp2_vec token;
    public nuint pkt_numlen;
    public nuint len;
    public uint version;
    public byte type;
    public byte flags;
    // 2 bytes of trailing padding, as in C.
}

/// <summary><c>ngtcp2_pkt_stateless_reset</c>: a decoded Stateless Reset packet. 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_pkt_stateless_reset
{
    public fixed byte stateless_reset_token[Ngtcp2Constants.NGTCP2_STATELESS_RESET_TOKENLEN];
    public byte* rand;
    public nuint randlen;
}

/// <summary><c>ngtcp2_version_cid</c>: version and connection IDs read by ngtcp2_pkt_decode_version_cid. 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_version_cid
{
    public uint version;
    public byte* dcid;
    public nuint dcidlen;
    public byte* scid;
    public nuint scidlen;
}

/// <summary><c>ngtcp2_rand_ctx</c>: opaque context handed to the rand callback. 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_rand_ctx
{
    public void* native_handle;
}

/// <summary><c>ngtcp2_mem</c>: a custom allocator (NULL selects the default). 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_mem
{
    public void* user_data;
    /// <summary><c>void *(*)(size_t size, void *user_data)</c></summary>
    public nint malloc;
    /// <summary><c>void (*)(void *ptr, void *user_data)</c></summary>
    public nint free;
    /// <summary><c>void *(*)(size_t nmemb, size_t size, void *user_data)</c></summary>
    public nint calloc;
    /// <summary><c>void *(*)(void *ptr, size_t size, void *user_data)</c></summary>
    public nint realloc;
}

/// <summary><c>ngtcp2_crypto_md</c>: a message digest (a gnutls_digest_algorithm_t under GnuTLS). 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_crypto_md
{
    public void* native_handle;
}

/// <summary><c>ngtcp2_crypto_aead</c>: an AEAD algorithm and its tag overhead. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_crypto_aead
{
    public void* native_handle;
    public nuint max_overhead;
}

/// <summary><c>ngtcp2_crypto_cipher</c>: a header-protection cipher. 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_crypto_cipher
{
    public void* native_handle;
}

/// <summary><c>ngtcp2_crypto_aead_ctx</c>: a keyed AEAD. 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_crypto_aead_ctx
{
    public void* native_handle;
}

/// <summary><c>ngtcp2_crypto_cipher_ctx</c>: a keyed header-protection cipher. 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_crypto_cipher_ctx
{
    public void* native_handle;
}

/// <summary><c>ngtcp2_crypto_ctx</c>: the negotiated AEAD, digest and header-protection cipher. 48 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ngtcp2_crypto_ctx
{
    public ngtcp2_crypto_aead aead;
    public ngtcp2_crypto_md md;
    public ngtcp2_crypto_cipher hp;
    public ulong max_encryption;
    public ulong max_decryption_failure;
}

/// <summary><c>ngtcp2_crypto_conn_ref</c> (ngtcp2_crypto.h): how the crypto helpers find the ngtcp2_conn of a TLS session. 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_crypto_conn_ref
{
    /// <summary><c>ngtcp2_conn *(*)(ngtcp2_crypto_conn_ref *conn_ref)</c></summary>
    public nint get_conn;
    public void* user_data;
}

/// <summary><c>ngtcp2_info</c>: what ngtcp2_version returns (the library's own version). 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ngtcp2_info
{
    public int age;
    public int version_num;
    /// <summary>NUL-terminated ASCII, owned by the library.</summary>
    public byte* version_str;
}
