namespace Plexus.Bench;

/// <summary>The bench's help text.</summary>
internal static class BenchUsage
{
    public const string Text = """
        Usage: Plexus.Bench [options] [--Plexus:Key=value ...]
               dotnet run -c Release --project bench/Plexus.Bench -- [options]

        Runs a transport's server and client in this process over loopback (no discovery, no router) and the
        baselines in the same run, then prints each figure and its ratio to each baseline. The transports are the
        plugins in plugins/ beside the executable (and in --Plexus:Plugins:Paths).

        Options:
          --transport <name>       The transport to measure: any loaded transport (default: tcp).
          --scenario <s>           unary, stream, bulk, serving, bulk-path or all; repeat or separate with commas
                                   (default: all, which is unary, stream and bulk).
                                     unary:  64-byte request, 64-byte response (p50/p99 latency at concurrency 1, req/s)
                                     stream: one request answered by 100,000 16-byte messages (messages/s)
                                     bulk:   one 64 MiB request payload (GB/s, and µs of process CPU per MiB)
                                     serving: --streams concurrent token streams on one client over --connections
                                             connections, each a request answered by --tokens tokens at --token-rate
                                             per stream, paced by one shared clock on the server; against the handler
                                             called in-process: time to first token, added inter-token latency, CPU
                                             per token, memory per idle stream and per connection, threads and timers,
                                             streams served. raw-tcp and raw-tcp-blocking cannot carry it (no stream
                                             ids) and say so. --duration does not apply; --warmup runs a short round
                                             first. Not part of all.
                                     bulk-path: two nodes of the library in this process (AddPlexus, file discovery in a
                                             temporary directory) over --transport, 64 MiB and 1 GiB payloads answered
                                             by 8 bytes, with the bulk path on (Plexus:Bulk:Transport=ucx, the rdma
                                             plugin) and off (inline), each for --warmup (at least one call) and
                                             --duration; then ucx_perftest ucp_get_bw and ucp_put_bw at the same sizes
                                             with UCX_TLS = Plexus:Bulk:Ucx:Settings:TLS (unset if that is). A "bulk"
                                             run whose payloads did not all move by bulk transfer fails. Needs
                                             ucx-utils and about 4 GiB of memory; takes about two minutes. --baseline
                                             does not apply to it.
          --concurrency <n>        Concurrent unary callers; repeat or separate with commas (default: 1 and 64).
          --duration <duration>    How long each measurement runs (default: 10s).
          --warmup <duration>      How long each subject runs before it is measured (default: 2s; 0 for none).
          --baseline <b>           nats-raw, tcp, tcp-lowlatency, raw-tcp, raw-tcp-blocking, kestrel-h2, all or none; repeat
                                   or separate with commas (default: all). tcp is the tcp transport, measured as the
                                   transport under test is; all includes it unless the transport is tcp (a transport is
                                   not its own baseline), and includes nats-raw only with --transport nats.
                                   tcp-lowlatency is the tcp transport with Plexus:Transports:Tcp:LowLatency=true, beside
                                   any transport (tcp too); only when named, never in all.
          --streams <n>            serving: concurrent streams; repeat or separate with commas (default: 1000).
          --connections <n>        serving: connections the streams are spread over (stream i on connection i mod n);
                                   repeat or separate with commas; at most the fewest streams (default: 1).
          --tokens <n>             serving: tokens per stream, 3 to 4096 (default: 64).
          --token-rate <r>         serving: tokens per second per stream, 0.1 to 1000 (default: 50).
          --token-bytes <n>        serving: bytes per token, 16 to 64 (default: 32).
          --json                   Print the result as one JSON object instead of a table.
          --help, -h               Show this help.

        Durations: a bare number is seconds (5), or write a unit: 500ms, 10s, 2m, or 00:00:10.

        Any option with a ':' in its name sets configuration, for example --Plexus:Transports:Tcp:Bind=127.0.0.1:0
        (the default here for tcp and quic: the bench only runs over loopback).

        NATS (--transport nats or --baseline nats-raw): the bench starts nats-server on a free 127.0.0.1 port for the
        run and stops it after, unless --Plexus:Transports:Nats:Url names one (on loopback).

        Progress goes to standard error. A default run takes about three minutes (four subjects; two and a half with
        --transport tcp, which has three).

        Exit codes: 0 ok, 1 a measurement failed, 2 wrong arguments, 3 required plugin failed, 4 invalid configuration,
        130 / 143 cancelled by SIGINT (Ctrl+C) / SIGTERM.
        """;
}
