using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Native;

/// <summary>Owns a <c>gnutls_session_t</c>. Released after the ngtcp2 connection that uses it.</summary>
internal sealed class GnuTlsSessionHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public static unsafe GnuTlsSessionHandle Create(uint flags)
    {
        nint session;
        var rv = GnuTls.gnutls_init(&session, flags);
        if (rv != 0)
        {
            throw new InvalidOperationException($"gnutls_init failed: {GnuTls.ErrorText(rv)}");
        }

        var owned = new GnuTlsSessionHandle();
        owned.SetHandle(session);
        return owned;
    }

    protected override bool ReleaseHandle()
    {
        GnuTls.gnutls_deinit(handle);
        return true;
    }
}
