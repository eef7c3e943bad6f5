using System.Text.RegularExpressions;

namespace Plexus.Templates.Tests;

/// <summary>One command of the README's block: the command as bash reads it, and what its comment promises.</summary>
internal sealed record ReadmeCommand(string Text, string? Prints)
{
    public bool IsCd => Text.StartsWith("cd ", StringComparison.Ordinal);

    public bool IsExport => Text.StartsWith("export ", StringComparison.Ordinal);

    public bool InBackground => Text.EndsWith(" &", StringComparison.Ordinal);

    public bool StopsBackground => Text == "kill %1";

    public string Foreground => InBackground ? Text[..^2].TrimEnd() : Text;
}

/// <summary>The shell block of the README section a stranger follows, read from the README itself.</summary>
internal static partial class ReadmeScript
{
    public const string Heading = "## Packages, templates, and a stranger's path from `dotnet new plexus-transport` to a working call";

    public static IReadOnlyList<ReadmeCommand> Read(string readmePath)
    {
        string text = File.ReadAllText(readmePath);
        int section = text.IndexOf(Heading, StringComparison.Ordinal);
        Assert.True(section >= 0, $"README.md has no section '{Heading}'");
        int start = text.IndexOf("```sh\n", section, StringComparison.Ordinal) + "```sh\n".Length;
        int end = text.IndexOf("```", start, StringComparison.Ordinal);
        var commands = new List<ReadmeCommand>();
        foreach (string line in text[start..end].Split('\n'))
        {
            // A comment starts at '#' after whitespace; none of the commands holds one otherwise.
            Match comment = Comment().Match(line);
            string command = (comment.Success ? line[..comment.Index] : line).Trim();
            if (command.Length == 0)
            {
                continue;
            }

            string? prints = comment.Success && comment.Groups[1].Value.StartsWith("prints: ", StringComparison.Ordinal)
                ? comment.Groups[1].Value["prints: ".Length..].Trim()
                : null;
            commands.Add(new ReadmeCommand(command, prints));
        }

        return commands;
    }

    [GeneratedRegex(@"(?:^|\s)#\s?(.*)$")]
    private static partial Regex Comment();
}
