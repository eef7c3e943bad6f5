using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Plexus.Transport.Quic;

/// <summary>
/// The transport's own meter, <c>Plexus.Transport.Quic</c>, with the instruments the TCP transport has under the same
/// names (tagged <c>transport=quic</c>), so one dashboard reads both. The host's <c>/metrics</c> exposes every meter
/// named <c>Plexus*</c>.
/// </summary>
internal static class QuicMetrics
{
    private static readonly Meter Meter = new("Plexus.Transport.Quic", typeof(QuicMetrics).Assembly.GetName().Version?.ToString(3));
    private static readonly UpDownCounter<long> Open = Meter.CreateUpDownCounter<long>("plexus.transport.connections", "{connection}", "Connections open now, after their handshake.");
    private static readonly Counter<long> Opened = Meter.CreateCounter<long>("plexus.transport.connections.opened", "{connection}", "Connections that completed their handshake.");
    private static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("plexus.transport.reconnects", "{connection}", "Client connections opened to an address that had a connection before.");
    private static readonly TagList ServerTags = new() { { "transport", "quic" }, { "side", "server" } };
    private static readonly TagList ClientTags = new() { { "transport", "quic" }, { "side", "client" } };

    /// <summary>A connection finished its handshake (and, on the client, its SETTINGS).</summary>
    public static void ConnectionOpened(bool server)
    {
        Open.Add(1, server ? ServerTags : ClientTags);
        Opened.Add(1, server ? ServerTags : ClientTags);
    }

    /// <summary>A connection counted by <see cref="ConnectionOpened"/> closed.</summary>
    public static void ConnectionClosed(bool server) => Open.Add(-1, server ? ServerTags : ClientTags);

    /// <summary>A client connected again to an address it had a connection to before.</summary>
    public static void Reconnected() => Reconnects.Add(1, ClientTags);
}
