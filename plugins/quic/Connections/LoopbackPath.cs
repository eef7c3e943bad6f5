using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// The UDP payload size for a peer on this machine. Loopback carries 64 KiB packets and loses none to their size, as
/// TCP's 64 KiB segments there show, but ngtcp2's path MTU discovery probes no higher than 1,452 bytes; a connection
/// over loopback therefore uses packets as large as the loopback interface's MTU allows, forty-five times fewer for
/// the same bytes. Any other peer gets the configured size.
/// </summary>
internal static class LoopbackPath
{
    // The largest UDP payload IPv4 can carry, with room to spare for IPv6's larger header.
    private const int Largest = 65000;

    private static readonly Lazy<int> LoopbackMtu = new(ReadLoopbackMtu);

    public static int UdpPayloadSize(IPAddress peer, int configured)
    {
        if (!IPAddress.IsLoopback(peer) && !(peer.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(peer.MapToIPv4())))
        {
            return configured;
        }

        // IPv6 header (40) and UDP header (8).
        var fromMtu = LoopbackMtu.Value - 48;
        return Math.Max(configured, Math.Min(Largest, fromMtu));
    }

    private static int ReadLoopbackMtu()
    {
        try
        {
            var text = File.ReadAllText("/sys/class/net/lo/mtu").Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var mtu) ? mtu : 0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or SocketException)
        {
            // Unknown: stay with the configured size.
            return 0;
        }
    }
}
