using System.Runtime.InteropServices;

namespace Plexus.Transport.Rdma.Native;

/// <summary>Checks once that UCX 1.13 can be loaded, so that a missing library is one clear line, not a crash.</summary>
internal static partial class UcxNativeLibraries
{
    public const string Packages = "libucx0";

    private static readonly Lazy<string?> LazyProblem = new(Probe);

    /// <summary>Null when UCX can be used here; otherwise what is wrong and what to install.</summary>
    public static string? Problem => LazyProblem.Value;

    /// <summary>The loaded UCX's version, such as <c>1.13.1</c>; empty when it could not be loaded.</summary>
    public static string Version { get; private set; } = string.Empty;

    private static unsafe string? Probe()
    {
        // UCX writes its own log lines to standard output unless told otherwise, which would mix them into what a
        // command such as `call` prints. It reads the setting once, when libucs loads, from the process environment
        // (which .NET's Environment.SetEnvironmentVariable does not change on Unix); a user's own UCX_LOG_FILE wins.
        _ = setenv("UCX_LOG_FILE", "stderr", 0);

        // By default UCX installs its own handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE (to print a backtrace and
        // stop); the .NET runtime turns SIGSEGV into NullReferenceException, so a null dereference anywhere in the
        // process, even one caught, would end it in UCX's handler. An empty list keeps the runtime's handlers.
        _ = setenv("UCX_ERROR_SIGNALS", string.Empty, 0);
        foreach (var library in new[] { Ucp.Library, Ucp.StatusLibrary })
        {
            if (!NativeLibrary.TryLoad(library, typeof(UcxNativeLibraries).Assembly, null, out _))
            {
                return $"{library} could not be loaded; install the Debian package {Packages} (apt-get install {Packages}).";
            }
        }

        uint major, minor, release;
        Ucp.ucp_get_version(&major, &minor, &release);
        Version = $"{major}.{minor}.{release}";
        return major == 1 && minor >= 13
            ? null
            : $"UCX {major}.{minor}.{release} is loaded, but the transport is built for the UCX 1.13 API; install libucx0 1.13 or later 1.x.";
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
