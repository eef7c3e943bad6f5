namespace Plexus.Transport.Quic.Connections;

/// <summary>The QUIC connection is closed; <see cref="Info"/> says how and why.</summary>
internal sealed class QuicConnectionClosedException : IOException
{
    public QuicConnectionClosedException(QuicCloseInfo info)
        : base(info.Describe()) => Info = info;

    /// <summary>How and why the connection ended.</summary>
    public QuicCloseInfo Info { get; }
}
