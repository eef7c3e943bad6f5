namespace Plexus.Transport.Quic.Connections;

/// <summary>The knobs of one QUIC connection (and of every connection a listener accepts).</summary>
internal sealed class QuicConnectionSettings
{
    /// <summary>A connection that receives nothing for this long is closed silently (QUIC's <c>max_idle_timeout</c>).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Send a PING after this long without receiving anything; <see cref="TimeSpan.Zero"/> sends none.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the handshake may take.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Flow-control window of each stream, the most the peer may send on it ahead of the reader.</summary>
    public long StreamWindowBytes { get; init; } = 1024 * 1024;

    /// <summary>Flow-control window of the connection, across its streams.</summary>
    public long ConnectionWindowBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Bidirectional streams the peer may have open at once (0: the peer may open none).</summary>
    public int MaxInboundBidirectionalStreams { get; init; }

    /// <summary>Unidirectional streams the peer may open.</summary>
    public int MaxInboundUnidirectionalStreams { get; init; } = 3;

    /// <summary>Bytes a stream's writer may have waiting for flow control or congestion before its flush waits.</summary>
    public int SendBufferBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// Bytes the connection's streams may together owe the peer (handed to QUIC and not yet acknowledged) before
    /// writers of bidirectional streams wait and the peer gets no more streams; 0: no such bound.
    /// </summary>
    public long ConnectionSendBufferBytes { get; init; }

    /// <summary>How long the connection may owe <see cref="ConnectionSendBufferBytes"/> without the peer acknowledging anything before it is closed.</summary>
    public TimeSpan StalledPeerTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest UDP payload this side sends.</summary>
    public int MaxUdpPayloadSize { get; init; } = 1452;

    /// <summary>Whether a peer over loopback gets packets as large as the loopback MTU allows (<see cref="LoopbackPath"/>).</summary>
    public bool LoopbackMtu { get; init; } = true;

    /// <summary>
    /// The application protocols this side speaks, most preferred first: a client offers them all, a server picks the
    /// first of its own that the client offers, and a peer that offers none of them is refused in the handshake.
    /// </summary>
    public IReadOnlyList<string> Alpns { get; init; } = ["plexus/1"];
}
