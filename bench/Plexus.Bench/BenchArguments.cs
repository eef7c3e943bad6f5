namespace Plexus.Bench;

/// <summary>
/// The bench's command line split into positional arguments, options, and configuration overrides
/// (<c>--Plexus:Key=value</c> or <c>--Logging:...</c>: any option whose name holds a ':' goes to configuration).
/// </summary>
internal sealed class BenchArguments
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "json", "help", "h" };

    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);

    private BenchArguments()
    {
    }

    public List<string> Positional { get; } = [];

    public List<string> ConfigurationArgs { get; } = [];

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Value(string name) => _options.TryGetValue(name, out var values) && values.Count > 0 ? values[^1] : null;

    public IReadOnlyList<string> Values(string name) => _options.TryGetValue(name, out var values) ? values : [];

    /// <summary>Whether help was asked for, with <c>--help</c>, <c>-h</c> or <c>help</c>.</summary>
    public bool WantsHelp => Has("help") || Has("h") || Positional is ["help", ..];

    /// <exception cref="UsageException">An option misses its value.</exception>
    public static BenchArguments Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parsed = new BenchArguments();
        for (var i = 0; i < args.Length; i++)
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

    /// <summary>Refuses options the bench does not know.</summary>
    public void Allow(params string[] known)
    {
        foreach (var name in _options.Keys)
        {
            if (Array.IndexOf(known, name) < 0 && name is not ("help" or "h"))
            {
                throw new UsageException($"The bench has no option --{name}.");
            }
        }
    }
}
