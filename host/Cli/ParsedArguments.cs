using System.CommandLine;
using System.CommandLine.Parsing;

namespace Plexus.Host.Cli;

/// <summary>
/// A host command line as <see cref="HostCommandLine"/> parsed it: the command (<c>run</c> when none is written), its
/// arguments and options, and the configuration overrides.
/// </summary>
internal sealed class ParsedArguments : CommandLineOptions
{
    private ParsedArguments(string command)
    {
        Command = command;
    }

    public string Command { get; }

    /// <summary>Whether the command was written out, rather than taken as the default <c>run</c>.</summary>
    public bool CommandGiven { get; private init; }

    /// <exception cref="UsageException">The command is unknown, an option misses its value, or an argument is wrong.</exception>
    public static ParsedArguments Parse(string[] args)
    {
        var (rest, configuration) = HostCommandLine.Split(args);
        var given = rest.Count > 0 && !rest[0].StartsWith('-');
        if (given && Array.IndexOf(HostCommandLine.Commands, rest[0]) < 0)
        {
            throw new UsageException($"Unknown command '{rest[0]}'.");
        }

        ParsedArguments parsed;
        if (given && rest[0] == "help")
        {
            parsed = new ParsedArguments("help") { CommandGiven = true };
            parsed.Positional.AddRange(rest.Skip(1));
        }
        else
        {
            var result = HostCommandLine.Build().Parse(rest, new ParserConfiguration { ResponseFileTokenReplacer = null });
            var command = given ? rest[0] : "run";
            if (result.Errors.Count > 0)
            {
                throw new UsageException(result.Errors[0].Message) { Command = command };
            }

            parsed = new ParsedArguments(command) { CommandGiven = given };
            Collect(result.CommandResult, parsed);
        }

        parsed.ConfigurationArgs.AddRange(configuration);
        return parsed;
    }

    /// <summary>Refuses options the command does not know.</summary>
    public void Allow(params string[] known) => Allow($"'{Command}'", known);

    private static void Collect(CommandResult result, ParsedArguments parsed)
    {
        // A subcommand (cluster token) reads as its parent with a positional argument, as the commands expect.
        if (result.Parent is CommandResult parent && parent.Command is not RootCommand)
        {
            Collect(parent, parsed);
            parsed.Positional.Add(result.Command.Name);
        }

        foreach (var child in result.Children)
        {
            switch (child)
            {
                case ArgumentResult argument:
                    parsed.Positional.AddRange(argument.Tokens.Select(t => t.Value));
                    break;
                case OptionResult option when !option.Implicit:
                    var name = option.Option.Name.TrimStart('-');
                    parsed.Set(name, option.Tokens.Count == 0 ? ["true"] : option.Tokens.Select(t => t.Value));
                    break;
            }
        }
    }
}
