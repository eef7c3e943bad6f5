using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Native;

#pragma warning disable CA1707, IDE1006, CS8981 // Names mirror <sys/socket.h> and <sys/uio.h>, so the layout test can compare them.

/// <summary><c>struct iovec</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct iovec
{
    public void* iov_base;
    public nuint iov_len;
}

/// <summary><c>struct msghdr</c> (Linux, 64-bit).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct msghdr
{
    public void* msg_name;
    public uint msg_namelen;
    public iovec* msg_iov;
    public nuint msg_iovlen;
    public void* msg_control;
    public nuint msg_controllen;
    public int msg_flags;
}

/// <summary><c>struct cmsghdr</c> (Linux, 64-bit); the data follows it, aligned to 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct cmsghdr
{
    public nuint cmsg_len;
    public int cmsg_level;
    public int cmsg_type;
}

/// <summary>
/// <c>sendmsg</c>, for UDP generic segmentation offload: many equal-sized QUIC packets handed to the kernel in one call
/// with a <c>UDP_SEGMENT</c> control message, which .NET's <c>Socket</c> cannot attach.
/// </summary>
internal static unsafe partial class LibC
{
    public const int SOL_UDP = 17;
    public const int UDP_SEGMENT = 103;
    public const int EAGAIN = 11;
    public const int EIO = 5;
    public const int EINVAL = 22;
    public const int EMSGSIZE = 90;
    public const int ENOPROTOOPT = 92;
    public const int EOPNOTSUPP = 95;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(int sockfd, msghdr* msg, int flags);
}
#pragma warning restore CA1707, IDE1006, CS8981
