using System.Net;

namespace Plexus.Bench;

/// <summary>The bench only ever talks over loopback; a transport configured to listen elsewhere is refused, not measured.</summary>
internal static class LoopbackGuard
{
    /// <exception cref="BenchFailedException">The address is a network address that is not loopback.</exception>
    public static void Ensure(Uri address, string transport)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IsAllowed(address))
        {
            throw new BenchFailedException(
                $"The {transport} server listens at {address}, which is not a loopback address; the bench only runs over loopback. Fix: set the transport's bind and advertised addresses to 127.0.0.1 or [::1] with --Plexus:Transports:<Name>:... on the bench command line.");
        }
    }

    /// <summary>
    /// True for loopback IP addresses and <c>localhost</c>, and for addresses with no host and port at all (an
    /// in-process transport names its server, not a network endpoint).
    /// </summary>
    public static bool IsAllowed(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.HostNameType switch
        {
            UriHostNameType.IPv4 or UriHostNameType.IPv6 => IPAddress.TryParse(address.IdnHost, out var ip) && IPAddress.IsLoopback(ip),
            UriHostNameType.Dns when string.Equals(address.IdnHost, "localhost", StringComparison.OrdinalIgnoreCase) => true,
            UriHostNameType.Dns or UriHostNameType.Basic => address.Port < 0,
            _ => !address.IsAbsoluteUri || string.IsNullOrEmpty(address.Host),
        };
    }
}
