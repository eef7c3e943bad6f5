using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Rdma.Tests;

/// <summary>
/// UCX in a .NET process: the runtime keeps its own signal handlers (a null dereference stays a catchable
/// NullReferenceException once UCX is loaded), and UCX's log lines stay off standard output.
/// </summary>
public sealed partial class UcxProcessSignalsTests
{
    [Fact]
    public void A_null_dereference_after_ucx_loaded_is_still_a_catchable_exception()
    {
        using var transport = new UcxBulkTransport(Options.Create(new UcxBulkOptions()), NullLogger<UcxBulkTransport>.Instance);
        Assert.True(transport.IsAvailable, transport.UnavailableReason);

        // The runtime raises NullReferenceException from SIGSEGV; UCX's default handlers would end the process here.
        Assert.Throws<NullReferenceException>(() => Dereference(null));
        Assert.Equal(string.Empty, NativeValue("UCX_ERROR_SIGNALS"));
        Assert.Equal("stderr", NativeValue("UCX_LOG_FILE"));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Dereference(int[]? values) => values![0];

    // What native code (UCX) sees: libc's environment, which Environment.GetEnvironmentVariable does not read on Unix
    // for variables set after start.
    private static string? NativeValue(string name) => System.Runtime.InteropServices.Marshal.PtrToStringUTF8(getenv(name));

    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial nint getenv(string name);
}
