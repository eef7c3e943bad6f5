namespace Plexus.Host.Cli;

/// <summary>
/// A command line split into the command, its positional arguments, its options, and configuration overrides
/// (<c>--Plexus:Key=value</c> or <c>--Logging:...</c>: any option whose name holds a ':' goes to configuration).
/// </summary>
internal sealed class ParsedArguments
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "json", "help", "h", "lines", "no-serve", "serve" };

    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);

    private ParsedArguments(string command)
    {
        Command = command;
    }

    public string Command { get; }

    /// <summary>Whether the command was written out, rather than taken as the default <c>run</c>.</summary>
    public bool CommandGiven { get; private init; }

    public List<string> Positional { get; } = [];

    public List<string> ConfigurationArgs { get; } = [];

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Value(string name) => _options.TryGetValue(name, out var values) && values.Count > 0 ? values[^1] : null;

    public IReadOnlyList<string> Values(string name) => _options.TryGetValue(name, out var values) ? values : [];

    public IEnumerable<string> OptionNames => _options.Keys;

    /// <exception cref="UsageException">An option misses its value.</exception>
    public static ParsedArguments Parse(string[] args)
    {
        var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "run";
        var parsed = new ParsedArguments(command) { CommandGiven = args.Length > 0 && !args[0].StartsWith('-') };
        for (var i = args.Length > 0 && !args[0].StartsWith('-') ? 1 : 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-")
            {
                parsed.Positional.Add(arg);
                continue;
            }

            var name = arg.TrimStart('-');
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            if (name.Contains(':', StringComparison.Ordinal) || name.Contains("__", StringComparison.Ordinal))
            {
                parsed.ConfigurationArgs.Add(value is null ? arg : $"--{name}={value}");
                if (value is null && i + 1 < args.Length)
                {
                    parsed.ConfigurationArgs.Add(args[++i]);
                }

                continue;
            }

            if (value is null && !Flags.Contains(name))
            {
                if (i + 1 >= args.Length)
                {
                    throw new UsageException($"Option --{name} needs a value.");
                }

                value = args[++i];
            }

            if (!parsed._options.TryGetValue(name, out var list))
            {
                parsed._options[name] = list = [];
            }

            list.Add(value ?? "true");
        }

        return parsed;
    }

    /// <summary>Refuses options the command does not know.</summary>
    public void Allow(params string[] known)
    {
        foreach (var name in _options.Keys)
        {
            if (Array.IndexOf(known, name) < 0 && name is not ("help" or "h"))
            {
                throw new UsageException($"'{Command}' has no option --{name}.");
            }
        }
    }
}
