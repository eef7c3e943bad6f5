namespace Plexus.Host.Cli;

/// <summary>
/// Options of a command line, the same way for every tool of the project (the host's commands, the bench): positional
/// arguments, <c>--name value</c> or <c>--name=value</c> options, flags that take no value, and configuration overrides
/// (<c>--Plexus:Key=value</c> or <c>--Logging:...</c>: any option whose name holds a ':' or "__" goes to configuration).
/// </summary>
internal abstract class CommandLineOptions
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public List<string> ConfigurationArgs { get; } = [];

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Value(string name) => _options.TryGetValue(name, out var values) && values.Count > 0 ? values[^1] : null;

    public IReadOnlyList<string> Values(string name) => _options.TryGetValue(name, out var values) ? values : [];

    public IEnumerable<string> OptionNames => _options.Keys;

    /// <summary>Records an option's values, as a parser of its own found them.</summary>
    protected void Set(string name, IEnumerable<string> values)
    {
        if (!_options.TryGetValue(name, out var list))
        {
            _options[name] = list = [];
        }

        list.AddRange(values);
    }

    /// <summary>Reads <paramref name="args"/> from <paramref name="start"/> on.</summary>
    /// <exception cref="UsageException">An option misses its value.</exception>
    protected void Read(string[] args, int start, IReadOnlySet<string> flags)
    {
        for (var i = start; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-")
            {
                Positional.Add(arg);
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
                ConfigurationArgs.Add(value is null ? arg : $"--{name}={value}");
                if (value is null && i + 1 < args.Length)
                {
                    ConfigurationArgs.Add(args[++i]);
                }

                continue;
            }

            if (value is null && !flags.Contains(name))
            {
                if (i + 1 >= args.Length)
                {
                    throw new UsageException($"Option --{name} needs a value.");
                }

                value = args[++i];
            }

            if (!_options.TryGetValue(name, out var list))
            {
                _options[name] = list = [];
            }

            list.Add(value ?? "true");
        }
    }

    /// <summary>Refuses options that are not <paramref name="known"/> (help is always allowed).</summary>
    /// <param name="owner">Who has no such option, as the message says it: <c>'call'</c>, <c>The bench</c>.</param>
    /// <param name="known">The options allowed.</param>
    /// <exception cref="UsageException">An option is not known.</exception>
    protected void Allow(string owner, string[] known)
    {
        foreach (var name in _options.Keys)
        {
            if (Array.IndexOf(known, name) < 0 && name is not ("help" or "h"))
            {
                throw new UsageException($"{owner} has no option --{name}.");
            }
        }
    }
}
