using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Native;

/// <summary>Owns a <c>gnutls_certificate_credentials_t</c>.</summary>
internal sealed class GnuTlsCredentialsHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public static unsafe GnuTlsCredentialsHandle Allocate()
    {
        nint credentials;
        var rv = GnuTls.gnutls_certificate_allocate_credentials(&credentials);
        if (rv != 0)
        {
            throw new InvalidOperationException($"gnutls_certificate_allocate_credentials failed: {GnuTls.ErrorText(rv)}");
        }

        var owned = new GnuTlsCredentialsHandle();
        owned.SetHandle(credentials);
        return owned;
    }

    protected override bool ReleaseHandle()
    {
        GnuTls.gnutls_certificate_free_credentials(handle);
        return true;
    }
}
