using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Native;

/// <summary>
/// Checks once that ngtcp2 0.12, its GnuTLS crypto library and GnuTLS can be loaded, so that a missing or wrong-version
/// library is one clear line instead of a crash at the first call.
/// </summary>
internal static class QuicNativeLibraries
{
    /// <summary>The Debian packages that carry the libraries.</summary>
    public const string Packages = "libngtcp2-9 libngtcp2-crypto-gnutls2 libgnutls30";

    private static readonly Lazy<string?> LazyProblem = new(() => Probe([Ngtcp2.Library, Ngtcp2CryptoGnuTls.Library, GnuTls.Library]));

    /// <summary><see langword="null"/> when the transport can run here; otherwise a sentence that says why not and what to install.</summary>
    public static string? Problem => LazyProblem.Value;

    /// <summary>The loaded ngtcp2 version, such as <c>0.12.1</c>, or <see langword="null"/> when it cannot be loaded.</summary>
    public static string? Ngtcp2Version { get; private set; }

    /// <summary>Throws <see cref="InvalidOperationException"/> with <see cref="Problem"/> when the libraries are unusable.</summary>
    public static void EnsureAvailable()
    {
        if (Problem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }

    /// <summary>Loads each library in turn; the first that fails is named, with the packages to install.</summary>
    internal static unsafe string? Probe(IReadOnlyList<string> libraries)
    {
        foreach (var library in libraries)
        {
            if (!NativeLibrary.TryLoad(library, typeof(QuicNativeLibraries).Assembly, null, out _))
            {
                return $"The QUIC transport needs {library}, which could not be loaded; install the Debian packages {Packages} (apt-get install {Packages}).";
            }
        }

        var info = Ngtcp2.ngtcp2_version(0);
        var version = info == null ? null : Marshal.PtrToStringUTF8((nint)info->version_str);
        Ngtcp2Version = version;
        if (version is null || !version.StartsWith("0.12.", StringComparison.Ordinal))
        {
            return $"The QUIC transport is built for ngtcp2 0.12 (libngtcp2.so.9), but the library loaded reports version '{version}'; its ABI differs. Install the Debian package libngtcp2-9 0.12.x.";
        }

        return null;
    }
}
