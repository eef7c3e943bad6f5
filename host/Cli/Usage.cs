namespace Plexus.Host.Cli;

/// <summary>The help text of each command.</summary>
internal static class Usage
{
    public const string General = """
        Plexus host: runs a node of the request plane, and talks to one.

        Usage: Plexus.Host [command] [options] [--Plexus:Key=value ...]

        Commands:
          run                      Run a node (the default).
          call <ns/comp/endpoint>  Call an endpoint and print its response stream.
          instances [endpoint]     List the instances discovery knows.
          plugins                  List plugins and whether they loaded.
          bench                    Measure a transport over loopback against raw sockets and Kestrel HTTP/2.
          help [command]           Show help.

        Any option with a ':' in its name sets configuration, for example
          --Plexus:RequestPlane:Transport=memory  --Plexus:Discovery:Provider=file

        Durations, here and in configuration: 500ms, 10s, 2m, 1h or 00:00:10 (a bare number has no unit and is refused).

        Exit codes: 0 ok, 1 call or bench failed, 2 wrong arguments, 3 required plugin failed, 4 invalid configuration,
        130 / 143 call or bench cancelled by SIGINT (Ctrl+C) / SIGTERM. 'run' drains on either signal and exits 0.
        """;

    public const string Run = """
        Usage: Plexus.Host run [--Plexus:Key=value ...]

        Runs a node: loads plugins, serves the registered endpoints over the configured transport, registers
        them in discovery, and on Ctrl+C or SIGTERM leaves discovery, drains in-flight requests for up to
        Plexus:Server:DrainTimeout, and exits 0. A Bind address that is invalid or in use exits 4.
        """;

    public const string Call = """
        Usage: Plexus.Host call <namespace/component/endpoint> [options]

        Options:
          --data <text>|@<file>   The request payload (default: empty). @- reads standard input. A file larger than
                                  the transport's MaxPayloadBytes is refused (exit 2) before it is read.
          --header <k=v>          A request header; repeat for more.
          --timeout <duration>    Give up after this long: 500ms, 10s, 2m or 00:00:10 (default: none).
          --instance <id>         Send to this instance only (16 hex digits, see 'instances').
          --lines                 Print a newline after every message.
          --json                  Print one JSON object per message: {"index":0,"text":"..."} or {"index":0,"base64":"..."}.
          --serve / --no-serve    Also serve this node's endpoints while calling (default: only when
                                  discovery is in-process, where no other node could be found).

        Prints the messages as they arrive. On failure prints the typed error to standard error and exits 1.
        SIGINT (Ctrl+C) or SIGTERM cancels the call (the server's handler is cancelled too) and exits 130 or 143.
        """;

    public const string Instances = """
        Usage: Plexus.Host instances [namespace/component/endpoint] [--json]

        Lists the instances registered in discovery, for one endpoint or all.
        """;

    public const string Plugins = """
        Usage: Plexus.Host plugins [--json]

        Lists every plugin folder found: name, version, kinds, the contracts version it was built against,
        and whether it loaded (with the reason and fix when it did not).
        """;

    public const string Bench = """
        Usage: Plexus.Host bench [options] [--Plexus:Key=value ...]

        Runs a transport's server and client in this process over loopback (no discovery, no router) and the
        baselines in the same run, then prints each figure and its ratio to each baseline.

        Options:
          --transport <name>       The transport to measure: any loaded transport (default: tcp).
          --scenario <s>           unary, stream, bulk or all; repeat or separate with commas (default: all).
                                     unary:  64-byte request, 64-byte response (p50/p99 latency at concurrency 1, req/s)
                                     stream: one request answered by 100,000 16-byte messages (messages/s)
                                     bulk:   one 64 MiB request payload (GB/s)
          --concurrency <n>        Concurrent unary callers; repeat or separate with commas (default: 1 and 64).
          --duration <duration>    How long each measurement runs: 500ms, 10s, 2m (default: 10s).
          --warmup <duration>      How long each subject runs before it is measured (default: 2s; 0 for none).
          --baseline <b>           nats-raw, raw-tcp, kestrel-h2, all or none; repeat or separate with commas (default: all;
                                   all includes nats-raw only with --transport nats).
          --json                   Print the result as one JSON object instead of a table.

        NATS (--transport nats or --baseline nats-raw): the bench starts nats-server on a free 127.0.0.1 port for the
        run and stops it after, unless --Plexus:Transports:Nats:Url names one (on loopback).

        Progress goes to standard error. A default run takes under three minutes. Exits 1 when a measurement fails.
        """;

    public static string For(string command) => command switch
    {
        "bench" => Bench,
        "run" => Run,
        "call" => Call,
        "instances" => Instances,
        "plugins" => Plugins,
        _ => General,
    };
}
