using System.Runtime.InteropServices;

namespace Plexus.Bench.Tests.Support;

/// <summary>Sends real POSIX signals to processes the tests started, the way a shell, systemd or a container runtime does.</summary>
internal static partial class Signals
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
