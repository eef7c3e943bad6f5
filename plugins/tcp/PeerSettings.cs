namespace Plexus.Transport.Tcp;

/// <summary>What one side announces in its handshake: its codec and its receive limits (docs/protocol/tcp.md).</summary>
internal readonly record struct PeerSettings(
    string CodecName,
    int MaxFrameHeaderBytes,
    int MaxFrameBodyBytes,
    int StreamWindowBytes,
    int ConnectionWindowBytes,
    int MaxConcurrentStreams,
    int KeepAliveMilliseconds)
{
    /// <summary>This side's settings, from its options.</summary>
    public static PeerSettings From(TcpTransportOptions options, string codecName, bool server) => new(
        codecName,
        options.MaxFrameHeaderBytes,
        options.MaxFrameBodyBytes,
        options.StreamWindowBytes,
        options.ConnectionWindowBytes,
        server ? options.MaxConcurrentStreams : 0,
        (int)Math.Min(int.MaxValue, options.KeepAliveInterval.TotalMilliseconds));

    /// <summary>The frame limits this side gives its codec when reading.</summary>
    public FrameLimits FrameLimits => new(MaxFrameHeaderBytes, MaxFrameBodyBytes);
}
