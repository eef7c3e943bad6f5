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
          cluster token|members    Print the line that joins a node to this cluster, or list its members.
          help [command]           Show help.

        Any option with a ':' in its name sets configuration, for example
          --Plexus:RequestPlane:Transport=memory  --Plexus:Discovery:Provider=file

        Durations, here and in configuration: 500ms, 10s, 2m, 1h or 00:00:10 (a bare number has no unit and is refused).

        Exit codes: 0 ok, 1 call failed, 2 wrong arguments, 3 required plugin failed, 4 invalid configuration,
        130 / 143 call cancelled by SIGINT (Ctrl+C) / SIGTERM. 'run' drains on either signal and exits 0.

        Benchmarks of the transports are a separate executable: dotnet run -c Release --project bench/Plexus.Bench.
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

    public const string Cluster = """
        Usage: Plexus.Host cluster token
               Plexus.Host cluster members [--json]

        token    Prints the line that starts a node joining this cluster: the seed's join address and the token,
                 from Plexus:Cluster:Token, or the seed's state directory (Plexus:Cluster:StatePath).
        members  Lists the seed's member table: each node, its addresses, when its certificate expires and when the
                 seed last heard from it. Asks the seed at Plexus:Cluster:Join (on the seed: its own address) and
                 proves the token as a join does.
        """;

    public static string For(string command) => command switch
    {
        "cluster" => Cluster,
        "run" => Run,
        "call" => Call,
        "instances" => Instances,
        "plugins" => Plugins,
        _ => General,
    };
}
