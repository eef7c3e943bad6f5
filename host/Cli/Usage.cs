using System.CommandLine;

namespace Plexus.Host.Cli;

/// <summary>The help text: generated from the command tree (<see cref="HostCommandLine"/>), with what no option says.</summary>
internal static class Usage
{
    public const string RootDescription = """
        Plexus host: runs a node of the request plane, and talks to one.

        Any option with a ':' in its name sets configuration, for example
          --Plexus:RequestPlane:Transport=memory  --Plexus:Discovery:Provider=file

        Durations, here and in configuration: 500ms, 10s, 2m, 1h or 00:00:10 (a bare number has no unit and is refused).
        Arguments can come from a response file: @args.rsp (one or more per line, # starts a comment).

        Exit codes: 0 ok, 1 call failed, 2 wrong arguments, 3 required plugin failed, 4 invalid configuration,
        130 / 143 call cancelled by SIGINT (Ctrl+C) / SIGTERM. 'run' drains on either signal and exits 0.

        Benchmarks of the transports are a separate executable: dotnet run -c Release --project bench/Plexus.Bench.
        """;

    /// <summary>The generated help of <paramref name="command"/> (the general help for an empty or unknown one).</summary>
    public static string For(string command)
    {
        var known = Array.IndexOf(HostCommandLine.Commands, command) >= 0 && command != "help";
        var output = new StringWriter();
        HostCommandLine.Build().Parse(known ? [command, "--help"] : ["--help"]).Invoke(new InvocationConfiguration { Output = output });
        return output.ToString().TrimEnd();
    }

    /// <summary>The general help.</summary>
    public static string General => For(string.Empty);
}
