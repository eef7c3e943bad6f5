using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Plexus.Transport.Nats;

/// <summary>
/// The transport's own meter, <c>Plexus.Transport.Nats</c>: connections to nats-server open now, and reconnects.
/// The host's <c>/metrics</c> exposes every meter named <c>Plexus*</c>.
/// </summary>
internal static class NatsMetrics
{
    private static readonly Meter Meter = new("Plexus.Transport.Nats", typeof(NatsMetrics).Assembly.GetName().Version?.ToString(3));
    private static readonly UpDownCounter<long> Open = Meter.CreateUpDownCounter<long>("plexus.transport.connections", "{connection}", "Connections open now, after their handshake.");
    private static readonly Counter<long> Opened = Meter.CreateCounter<long>("plexus.transport.connections.opened", "{connection}", "Connections that completed their handshake.");
    private static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("plexus.transport.reconnects", "{connection}", "Connections opened again after one was lost.");

    // A NATS client always connects out to nats-server, on the serving side too.
    private static TagList Tags => new() { { "transport", "nats" }, { "side", "client" } };

    public static void ConnectionOpened()
    {
        var tags = Tags;
        Open.Add(1, tags);
        Opened.Add(1, tags);
    }

    public static void ConnectionClosed() => Open.Add(-1, Tags);

    public static void Reconnected() => Reconnects.Add(1, Tags);
}
