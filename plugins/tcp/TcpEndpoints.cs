using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Addresses of the TCP transport: <c>tcp://host:port</c>, <c>tcp://[v6]:port</c>, with <c>?tls=true</c> when the
/// server serves TLS; and the <c>host:port</c> text of the bind and advertised settings.
/// </summary>
internal static class TcpEndpoints
{
    /// <summary>The scheme of every address, which is also the transport's name.</summary>
    public const string Scheme = "tcp";

    /// <summary>Parses <c>host:port</c>, <c>[v6]:port</c>, or a host alone when <paramref name="defaultPort"/> is given.</summary>
    public static bool TryParseHostPort(string? text, int? defaultPort, out string host, out int port, out string error)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "write it as host:port, such as 0.0.0.0:7400 or [::]:7400.";
            return false;
        }

        text = text.Trim();
        string? portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = "an IPv6 address in brackets is missing its ']'.";
                return false;
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            portText = rest.Length == 0 ? null : rest.StartsWith(':') ? rest[1..] : "bad";
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = "an IPv6 address needs brackets, such as [::1]:7400.";
                return false;
            }

            host = colon < 0 ? text : text[..colon];
            portText = colon < 0 ? null : text[(colon + 1)..];
        }

        if (host.Length == 0)
        {
            error = "the host is empty.";
            return false;
        }

        if (text.StartsWith('[') && !(IPAddress.TryParse(host, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6))
        {
            error = $"'{host}' in brackets is not an IPv6 address; write one such as [::1] or [::].";
            return false;
        }

        if (LooksLikeIPv4(host) && !IsIPv4(host))
        {
            // Digits and dots are never a host name, and the resolver's "does not resolve" would hide the typo.
            error = $"'{host}' is not an IPv4 address; write four numbers from 0 to 255, such as 127.0.0.1 or 0.0.0.0.";
            return false;
        }

        if (portText is null)
        {
            if (defaultPort is not { } fallback)
            {
                error = "the port is missing; write host:port (port 0 picks a free one).";
                return false;
            }

            port = fallback;
        }
        else if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > IPEndPoint.MaxPort)
        {
            error = $"'{portText}' is not a port; use 0 to {IPEndPoint.MaxPort}.";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static bool LooksLikeIPv4(string host)
    {
        foreach (var c in host)
        {
            if (!char.IsAsciiDigit(c) && c != '.')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsIPv4(string host)
    {
        var parts = host.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > 255)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads a transport address.</summary>
    /// <exception cref="ArgumentException">It is not a <c>tcp://host:port</c> address.</exception>
    public static (string Host, int Port, bool Tls) ParseAddress(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || !string.Equals(address.Scheme, Scheme, StringComparison.OrdinalIgnoreCase) || address.Port <= 0)
        {
            throw new ArgumentException($"'{address}' is not a TCP transport address; write it as tcp://host:port (tcp://[::1]:7400 for IPv6, ?tls=true for TLS).", nameof(address));
        }

        var query = address.Query;
        var tls = query.Contains("tls=true", StringComparison.OrdinalIgnoreCase) || query.Contains("tls=1", StringComparison.Ordinal);
        return (address.DnsSafeHost, address.Port, tls);
    }

    /// <summary>Builds the address a server advertises.</summary>
    public static Uri Format(string host, int port, bool tls)
    {
        var literal = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : host;
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{Scheme}://{literal}:{port}{(tls ? "?tls=true" : string.Empty)}"));
    }

    /// <summary>The host to advertise for a server bound to <paramref name="bound"/>, when no address is configured.</summary>
    public static string DefaultAdvertisedHost(IPAddress bound)
    {
        if (!bound.Equals(IPAddress.Any) && !bound.Equals(IPAddress.IPv6Any))
        {
            return bound.ToString();
        }

        // Bound to every interface: publish one that other machines can reach, preferring the bound family.
        var preferred = bound.AddressFamily;
        IPAddress? fallback = null;
        try
        {
            foreach (var network in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (network.OperationalStatus != OperationalStatus.Up || network.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (var unicast in network.GetIPProperties().UnicastAddresses)
                {
                    var candidate = unicast.Address;
                    if (IPAddress.IsLoopback(candidate) || candidate.IsIPv6LinkLocal)
                    {
                        continue;
                    }

                    if (candidate.AddressFamily == preferred)
                    {
                        return candidate.ToString();
                    }

                    fallback ??= candidate.AddressFamily == AddressFamily.InterNetwork ? candidate : null;
                }
            }
        }
        catch (NetworkInformationException)
        {
            // No interface list on this platform: fall through to loopback.
        }

        return (fallback ?? (preferred == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback)).ToString();
    }
}
