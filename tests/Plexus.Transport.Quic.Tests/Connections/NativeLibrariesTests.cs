using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Tests.Connections;

/// <summary>The load-time check of the native libraries: usable here, and one clear line when one is missing.</summary>
public sealed class NativeLibrariesTests
{
    [Fact]
    public void The_installed_libraries_are_usable_and_ngtcp2_is_0_12()
    {
        Assert.Null(QuicNativeLibraries.Problem);
        Assert.StartsWith("0.12.", QuicNativeLibraries.Ngtcp2Version, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_library_is_one_line_naming_it_and_the_packages_to_install()
    {
        var problem = QuicNativeLibraries.Probe(["libngtcp2.so.9", "libplexus-missing-for-test.so.1"]);

        Assert.NotNull(problem);
        Assert.DoesNotContain('\n', problem);
        Assert.Contains("libplexus-missing-for-test.so.1", problem, StringComparison.Ordinal);
        Assert.Contains("apt-get install libngtcp2-9 libngtcp2-crypto-gnutls2 libgnutls30", problem, StringComparison.Ordinal);
    }
}
