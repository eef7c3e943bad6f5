using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Native;

#pragma warning disable CA1707, IDE1006 // The entry points keep the C names, so each can be checked against gnutls.h.

/// <summary>A <c>gnutls_datum_t</c>: a pointer and an unsigned length.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct gnutls_datum_t
{
    public byte* data;
    public uint size;
}

/// <summary>The GnuTLS 3.7 functions the QUIC transport calls (soname <c>libgnutls.so.30</c>).</summary>
internal static unsafe partial class GnuTls
{
    public const string Library = "libgnutls.so.30";

    public const int GNUTLS_SERVER = 1;
    public const int GNUTLS_CLIENT = 1 << 1;
    public const int GNUTLS_ENABLE_EARLY_DATA = 1 << 20;
    public const int GNUTLS_NO_AUTO_SEND_TICKET = 1 << 21;
    public const int GNUTLS_NO_END_OF_EARLY_DATA = 1 << 22;
    public const int GNUTLS_CRD_CERTIFICATE = 1;
    public const int GNUTLS_X509_FMT_PEM = 1;
    public const int GNUTLS_CERT_REQUIRE = 2;
    public const int GNUTLS_ALPN_MANDATORY = 1;
    public const int GNUTLS_ALPN_SERVER_PRECEDENCE = 1 << 1;
    public const int GNUTLS_NAME_DNS = 1;

    // gnutls_certificate_status_t bits used to say why a peer's certificate was refused.
    public const int GNUTLS_CERT_INVALID = 1 << 1;
    public const int GNUTLS_CERT_REVOKED = 1 << 5;
    public const int GNUTLS_CERT_SIGNER_NOT_FOUND = 1 << 6;
    public const int GNUTLS_CERT_SIGNER_NOT_CA = 1 << 7;
    public const int GNUTLS_CERT_NOT_ACTIVATED = 1 << 9;
    public const int GNUTLS_CERT_EXPIRED = 1 << 10;
    public const int GNUTLS_CERT_UNEXPECTED_OWNER = 1 << 14;
    public const int GNUTLS_CERT_PURPOSE_MISMATCH = 1 << 18;
    public const int GNUTLS_CERT_MISSING_OCSP_STATUS = 1 << 19;

    [LibraryImport(Library)]
    public static partial int gnutls_init(nint* session, uint flags);

    [LibraryImport(Library)]
    public static partial void gnutls_deinit(nint session);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int gnutls_priority_set_direct(nint session, string priorities, nint* err_pos);

    [LibraryImport(Library)]
    public static partial void gnutls_session_set_ptr(nint session, nint ptr);

    [LibraryImport(Library)]
    public static partial int gnutls_credentials_set(nint session, int type, nint cred);

    [LibraryImport(Library)]
    public static partial int gnutls_alpn_set_protocols(nint session, gnutls_datum_t* protocols, uint protocols_size, uint flags);

    [LibraryImport(Library)]
    public static partial int gnutls_alpn_get_selected_protocol(nint session, gnutls_datum_t* protocol);

    [LibraryImport(Library)]
    public static partial int gnutls_server_name_set(nint session, int type, byte* name, nuint name_length);

    [LibraryImport(Library)]
    public static partial void gnutls_session_set_verify_cert(nint session, byte* hostname, uint flags);

    [LibraryImport(Library)]
    public static partial uint gnutls_session_get_verify_cert_status(nint session);

    /// <summary>The peer's certificate chain as DER, leaf first; null when it sent none. Owned by the session.</summary>
    [LibraryImport(Library)]
    public static partial gnutls_datum_t* gnutls_certificate_get_peers(nint session, uint* list_size);

    [LibraryImport(Library)]
    public static partial void gnutls_certificate_server_set_request(nint session, int req);

    [LibraryImport(Library)]
    public static partial void gnutls_certificate_send_x509_rdn_sequence(nint session, int status);

    [LibraryImport(Library)]
    public static partial int gnutls_certificate_allocate_credentials(nint* res);

    [LibraryImport(Library)]
    public static partial void gnutls_certificate_free_credentials(nint sc);

    [LibraryImport(Library)]
    public static partial int gnutls_certificate_set_x509_key_mem2(nint res, gnutls_datum_t* cert, gnutls_datum_t* key, int type, byte* pass, uint flags);

    [LibraryImport(Library)]
    public static partial int gnutls_certificate_set_x509_trust_mem(nint res, gnutls_datum_t* ca, int type);

    [LibraryImport(Library)]
    public static partial int gnutls_certificate_set_x509_system_trust(nint cred);

    [LibraryImport(Library)]
    public static partial nint gnutls_strerror(int error);

    /// <summary>GnuTLS's text for an error code.</summary>
    public static string ErrorText(int error) => Marshal.PtrToStringUTF8(gnutls_strerror(error)) ?? $"GnuTLS error {error}";
}
#pragma warning restore CA1707, IDE1006
