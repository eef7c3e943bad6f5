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

    private unsafe byte* _verifiedName;

    /// <summary>
    /// Sets the name the peer's certificate is checked against. GnuTLS keeps the pointer, not a copy, so the string
    /// lives in native memory owned by this handle until the session is freed.
    /// </summary>
    public unsafe byte* SetVerifiedName(string name)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name);
        var copy = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(copy, bytes.Length));
        NativeMemory.Free(_verifiedName);
        _verifiedName = copy;
        return copy;
    }

    protected override unsafe bool ReleaseHandle()
    {
        GnuTls.gnutls_deinit(handle);
        NativeMemory.Free(_verifiedName);
        _verifiedName = null;
        return true;
    }
}
