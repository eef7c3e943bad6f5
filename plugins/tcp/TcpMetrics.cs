using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The transport's own meter, <c>Plexus.Transport.Tcp</c>: open connections, connections opened, and client
/// reconnects. The host's <c>/metrics</c> exposes every meter named <c>Plexus*</c>.
/// </summary>
internal static class TcpMetrics
{
    private static readonly Meter Meter = new("Plexus.Transport.Tcp", typeof(TcpMetrics).Assembly.GetName().Version?.ToString(3));
    private static readonly UpDownCounter<long> Open = Meter.CreateUpDownCounter<long>("plexus.transport.connections", "{connection}", "Connections open now, after their handshake.");
    private static readonly Counter<long> Opened = Meter.CreateCounter<long>("plexus.transport.connections.opened", "{connection}", "Connections that completed their handshake.");
    private static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("plexus.transport.reconnects", "{connection}", "Client connections opened to an address that had a connection before.");

    private static TagList Tags(bool server) => new() { { "transport", "tcp" }, { "side", server ? "server" : "client" } };

    public static void ConnectionOpened(bool server)
    {
        var tags = Tags(server);
        Open.Add(1, tags);
        Opened.Add(1, tags);
    }

    public static void ConnectionClosed(bool server) => Open.Add(-1, Tags(server));

    public static void Reconnected() => Reconnects.Add(1, Tags(server: false));
}
