namespace Plexus.Transport.Streams;

/// <summary>The limits and clock of the stream protocol, the same on a transport's server and client.</summary>
public sealed class StreamRequestOptions
{
    /// <summary>
    /// The largest request payload and the largest response message in bytes: the client refuses a larger request
    /// before it connects, the server refuses one before reading it, a handler cannot end a larger message, and the
    /// client drops a connection that announces one. 256 MiB unless set.
    /// </summary>
    public long MaxPayloadBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// The configuration key that sets <see cref="MaxPayloadBytes"/>, named in the error that refuses a payload so
    /// that a person knows what to raise (for example <c>Plexus:Transports:Uds:MaxPayloadBytes</c>).
    /// </summary>
    public string PayloadLimitSetting { get; init; } = "MaxPayloadBytes";

    /// <summary>The clock that deadlines and the drain's polling are measured on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
