using Plexus.Host.Cli;

namespace Plexus.Bench;

/// <summary>The bench's command line: options, configuration overrides, and <c>help</c>.</summary>
internal sealed class BenchArguments : CommandLineOptions
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "json", "help", "h" };

    private BenchArguments()
    {
    }

    /// <summary>Whether help was asked for, with <c>--help</c>, <c>-h</c> or <c>help</c>.</summary>
    public bool WantsHelp => Has("help") || Has("h") || Positional is ["help", ..];

    /// <exception cref="UsageException">An option misses its value.</exception>
    public static BenchArguments Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parsed = new BenchArguments();
        parsed.Read(args, 0, Flags);
        return parsed;
    }

    /// <summary>Refuses options the bench does not know.</summary>
    public void Allow(params string[] known) => Allow("The bench", known);
}
