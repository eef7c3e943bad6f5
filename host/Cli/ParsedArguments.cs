namespace Plexus.Host.Cli;

/// <summary>A host command line: the command (<c>run</c> when none is written), then its arguments and options.</summary>
internal sealed class ParsedArguments : CommandLineOptions
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "json", "help", "h", "lines", "no-serve", "serve" };

    private ParsedArguments(string command)
    {
        Command = command;
    }

    public string Command { get; }

    /// <summary>Whether the command was written out, rather than taken as the default <c>run</c>.</summary>
    public bool CommandGiven { get; private init; }

    /// <exception cref="UsageException">An option misses its value.</exception>
    public static ParsedArguments Parse(string[] args)
    {
        var given = args.Length > 0 && !args[0].StartsWith('-');
        var parsed = new ParsedArguments(given ? args[0] : "run") { CommandGiven = given };
        parsed.Read(args, given ? 1 : 0, Flags);
        return parsed;
    }

    /// <summary>Refuses options the command does not know.</summary>
    public void Allow(params string[] known) => Allow($"'{Command}'", known);
}
