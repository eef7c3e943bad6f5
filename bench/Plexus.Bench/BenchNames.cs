namespace Plexus.Bench;

/// <summary>The names scenarios and baselines go by on the command line, in the table and in the JSON.</summary>
internal static class BenchNames
{
    public const string RawTcp = "raw-tcp";

    /// <summary>The raw-tcp protocol on blocking sockets and dedicated threads: the floor without async wake-ups.</summary>
    public const string RawTcpBlocking = "raw-tcp-blocking";

    public const string KestrelH2 = "kestrel-h2";

    public const string NatsRaw = "nats-raw";

    /// <summary>
    /// The tcp transport, as a baseline of any other transport; also the transport's own name, so a run with
    /// <c>--transport tcp</c> cannot have it as a baseline.
    /// </summary>
    public const string Tcp = "tcp";

    /// <summary>The tcp transport in low-latency mode (<c>Plexus:Transports:Tcp:LowLatency=true</c>), beside any transport, tcp too.</summary>
    public const string TcpLowLatency = "tcp-lowlatency";

    /// <summary>The transport whose runs include <see cref="NatsRaw"/> in <c>--baseline all</c> and the default.</summary>
    public const string NatsTransport = "nats";

    public const string BulkPath = "bulk-path";

    public const string Serving = "serving";

    public static string Of(BenchScenario scenario) => scenario switch
    {
        BenchScenario.Unary => "unary",
        BenchScenario.Stream => "stream",
        BenchScenario.Bulk => "bulk",
        BenchScenario.Serving => Serving,
        BenchScenario.BulkPath => BulkPath,
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null),
    };

    public static string Of(BenchBaseline baseline) => baseline switch
    {
        BenchBaseline.RawTcp => RawTcp,
        BenchBaseline.RawTcpBlocking => RawTcpBlocking,
        BenchBaseline.KestrelH2 => KestrelH2,
        BenchBaseline.NatsRaw => NatsRaw,
        BenchBaseline.Tcp => Tcp,
        BenchBaseline.TcpLowLatency => TcpLowLatency,
        _ => throw new ArgumentOutOfRangeException(nameof(baseline), baseline, null),
    };
}
