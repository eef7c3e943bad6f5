using System.CommandLine;
using System.CommandLine.Parsing;

namespace Plexus.Host.Cli;

/// <summary>
/// The host's command line on System.CommandLine: its commands, options and arguments, generated help, POSIX
/// conventions (<c>--name value</c>, <c>--name=value</c>, <c>--</c>), response files (<c>@file</c>, one or more
/// arguments per line, <c>#</c> comments) and completion (<c>[suggest]</c>, which <c>completion bash</c> wires up).
/// Configuration overrides (<c>--Plexus:Key=value</c>, any option whose name holds ':' or "__") are taken out first
/// and go to configuration, as before.
/// </summary>
internal static class HostCommandLine
{
    public static readonly string[] Commands = ["run", "call", "instances", "plugins", "cluster", "completion", "help"];

    /// <summary>Builds the command tree; every command's action is the caller's, given the parsed arguments.</summary>
    public static RootCommand Build(Func<ParseResult, Task<int>>? action = null)
    {
        var json = () => new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var root = new RootCommand(Usage.RootDescription);
        var run = new Command("run", "Run a node (the default): serve the configured endpoints until Ctrl+C or SIGTERM, then drain.");
        var call = new Command("call", "Call an endpoint and print its response stream.")
        {
            new Argument<string>("endpoint") { Description = "namespace/component/endpoint" },
            new Option<string>("--data") { Description = "The request payload (default: empty); @<file> reads a file, @- standard input.", HelpName = "text|@file" },
            new Option<string[]>("--header") { Description = "A request header k=v; repeat for more.", HelpName = "k=v", AllowMultipleArgumentsPerToken = false },
            new Option<string>("--timeout") { Description = "Give up after this long: 500ms, 10s, 2m or 00:00:10 (default: none).", HelpName = "duration" },
            new Option<string>("--instance") { Description = "Send to this instance only (16 hex digits, see 'instances').", HelpName = "id" },
            new Option<bool>("--lines") { Description = "Print a newline after every message." },
            json(),
            new Option<bool>("--serve") { Description = "Also serve this node's endpoints while calling." },
            new Option<bool>("--no-serve") { Description = "Do not serve this node's endpoints while calling (the default unless discovery is in-process)." },
        };
        var instances = new Command("instances", "List the instances discovery knows, for one endpoint or all.")
        {
            new Argument<string>("endpoint") { Description = "namespace/component/endpoint", Arity = ArgumentArity.ZeroOrOne },
            json(),
        };
        var plugins = new Command("plugins", "List every plugin folder found and whether it loaded.") { json() };
        var token = new Command("token", "Print the line that makes another node join this cluster.");
        var members = new Command("members", "List the seed's member table.") { json() };
        var cluster = new Command("cluster", "The secure cluster: the join line, the members.") { token, members };
        var completion = new Command("completion", "Print a shell completion script: plexus completion bash >> ~/.bashrc")
        {
            new Argument<string>("shell") { Description = "bash" }.AcceptOnlyFromAmong("bash"),
        };
        // Every leaf has an action (a parse alone needs one too: without it a command is "not provided").
        action ??= static _ => Task.FromResult(0);
        foreach (var command in new[] { run, call, instances, plugins, token, members, completion })
        {
            command.SetAction((result, _) => action(result));
        }

        root.Subcommands.Add(run);
        root.Subcommands.Add(call);
        root.Subcommands.Add(instances);
        root.Subcommands.Add(plugins);
        root.Subcommands.Add(cluster);
        root.Subcommands.Add(completion);
        root.SetAction((result, _) => action(result));
        return root;
    }

    /// <summary>
    /// Takes configuration overrides out of <paramref name="args"/> and expands response files (so that overrides in
    /// them count too). A <c>--data @file</c> is the payload option's file, not a response file.
    /// </summary>
    /// <exception cref="UsageException">A response file cannot be read.</exception>
    public static (List<string> Remaining, List<string> Configuration) Split(IReadOnlyList<string> args)
    {
        var expanded = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--data" && i + 1 < args.Count)
            {
                expanded.Add($"--data={args[++i]}");
                continue;
            }

            if (arg.Length > 1 && arg[0] == '@' && !arg.StartsWith("[", StringComparison.Ordinal))
            {
                expanded.AddRange(ReadResponseFile(arg[1..]));
                continue;
            }

            expanded.Add(arg);
        }

        var rest = new List<string>();
        var configuration = new List<string>();
        for (var i = 0; i < expanded.Count; i++)
        {
            var arg = expanded[i];
            if (arg == "--")
            {
                rest.AddRange(expanded.Skip(i));
                break;
            }

            var name = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : null;
            var eq = name?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            var bare = eq >= 0 ? name![..eq] : name;
            if (bare is not null && (bare.Contains(':', StringComparison.Ordinal) || bare.Contains("__", StringComparison.Ordinal)))
            {
                configuration.Add(arg);
                if (eq < 0 && i + 1 < expanded.Count)
                {
                    configuration.Add(expanded[++i]);
                }

                continue;
            }

            rest.Add(arg);
        }

        return (rest, configuration);
    }

    private static IEnumerable<string> ReadResponseFile(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"Response file '{path}' cannot be read: {ex.Message}", showUsage: false);
        }

        var tokens = new List<string>();
        foreach (var line in lines)
        {
            var text = line.Trim();
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }

            tokens.AddRange(CommandLineParser.SplitCommandLine(text));
        }

        return tokens;
    }
}
