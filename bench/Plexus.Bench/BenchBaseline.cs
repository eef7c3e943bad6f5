namespace Plexus.Bench;

/// <summary>What the transport under test is compared with in the same run, in table order.</summary>
internal enum BenchBaseline
{
    /// <summary>
    /// Plain NATS request/reply through the same nats-server on the official client, NATS.Client.Core 3.3.2, doing the
    /// least it can: the floor of a transport over NATS.
    /// </summary>
    NatsRaw,

    /// <summary>
    /// The project's TCP transport (the tcp plugin), measured exactly as a transport under test is: what another
    /// transport is held to. Not a baseline of the tcp transport itself.
    /// </summary>
    Tcp,

    /// <summary>
    /// <c>tcp-lowlatency</c>: the tcp plugin with <c>Plexus:Transports:Tcp:LowLatency=true</c>, from a host of its own,
    /// measured as the transport under test is. A baseline of the tcp transport too (a mode of it, not itself); only
    /// when named, never in <c>all</c>.
    /// </summary>
    TcpLowLatency,

    /// <summary>Plain sockets, length-prefixed: the floor.</summary>
    RawTcp,

    /// <summary><c>raw-tcp-blocking</c>: the raw-tcp protocol on blocking sockets and dedicated threads.</summary>
    RawTcpBlocking,

    /// <summary>Kestrel over HTTP/2 (h2c) with <c>HttpClient</c>: what a .NET user would pick instead.</summary>
    KestrelH2,
}
