using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Native;

/// <summary>Owns an <c>ngtcp2_conn</c>.</summary>
internal sealed class Ngtcp2ConnectionHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public static Ngtcp2ConnectionHandle Own(nint connection)
    {
        var owned = new Ngtcp2ConnectionHandle();
        owned.SetHandle(connection);
        return owned;
    }

    protected override bool ReleaseHandle()
    {
        Ngtcp2.ngtcp2_conn_del(handle);
        return true;
    }
}
