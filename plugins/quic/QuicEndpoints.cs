using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// Addresses of the QUIC transport, <c>quic://host:port</c> and <c>quic://[v6]:port</c>, and the <c>host:port</c> text
/// of the bind and advertised settings (parsed as the TCP transport parses its own).
/// </summary>
internal static class QuicEndpoints
{
    /// <summary>The scheme of every address, which is also the transport's name.</summary>
    public const string Scheme = "quic";

    /// <summary>Parses <c>host:port</c>, <c>[v6]:port</c>, or a host alone when <paramref name="defaultPort"/> is given.</summary>
    public static bool TryParseHostPort(string? text, int? defaultPort, out string host, out int port, out string error)
    {
        if (TcpEndpoints.TryParseHostPort(text, defaultPort, out host, out port, out error))
        {
            return true;
        }

        // The shared parser's examples name the TCP transport's default port.
        error = error.Replace(":7400", ":7500", StringComparison.Ordinal);
        return false;
    }

    /// <summary>Reads a transport address.</summary>
    /// <exception cref="ArgumentException">It is not a <c>quic://host:port</c> address.</exception>
    public static (string Host, int Port) ParseAddress(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || !string.Equals(address.Scheme, Scheme, StringComparison.OrdinalIgnoreCase) || address.Port <= 0)
        {
            throw new ArgumentException($"'{address}' is not a QUIC transport address; write it as quic://host:port (quic://[::1]:7500 for IPv6).", nameof(address));
        }

        return (address.DnsSafeHost, address.Port);
    }

    /// <summary>Builds the address a server advertises.</summary>
    public static Uri Format(string host, int port)
    {
        var literal = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : host;
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{Scheme}://{literal}:{port}"));
    }

    /// <summary>The host to advertise for a server bound to <paramref name="bound"/>, when no address is configured.</summary>
    public static string DefaultAdvertisedHost(IPAddress bound) => TcpEndpoints.DefaultAdvertisedHost(bound);

    /// <summary>Resolves a host name to one address, preferring IPv4 (what a bind of <c>0.0.0.0</c> serves).</summary>
    /// <returns>The address, or <see langword="null"/> when the name does not resolve.</returns>
    public static async ValueTask<IPAddress?> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var ip))
        {
            return ip;
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            IPAddress? first = null;
            foreach (var address in addresses)
            {
                if (address.AddressFamily == AddressFamily.InterNetwork)
                {
                    return address;
                }

                first ??= address;
            }

            return first;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
