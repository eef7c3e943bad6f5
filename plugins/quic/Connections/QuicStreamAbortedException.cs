namespace Plexus.Transport.Quic.Connections;

/// <summary>The peer reset the stream (seen on reads) or asked this side to stop sending (seen on writes).</summary>
internal sealed class QuicStreamAbortedException : IOException
{
    public QuicStreamAbortedException(ulong errorCode, bool reset)
        : base(reset ? $"the peer reset the stream with application error 0x{errorCode:x}" : $"the peer stopped reading the stream with application error 0x{errorCode:x}")
        => ErrorCode = errorCode;

    /// <summary>The peer's application error code.</summary>
    public ulong ErrorCode { get; }
}
