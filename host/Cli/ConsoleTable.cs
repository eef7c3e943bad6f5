using Spectre.Console;
using Spectre.Console.Rendering;

namespace Plexus.Host.Cli;

/// <summary>Tables for people on a terminal (Spectre.Console); plain, uncoloured text when output is redirected.</summary>
internal static class ConsoleTable
{
    public static IAnsiConsole For(TextWriter output) =>
        For(output, ReferenceEquals(output, Console.Out) ? Console.IsOutputRedirected : true);

    public static IAnsiConsole For(TextWriter output, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Yes,
        });
        if (redirected)
        {
            // A pipe has no width; wide enough that addresses and errors are not folded.
            console.Profile.Width = 200;
        }

        return console;
    }

    public static void Write(TextWriter output, string[] headers, IEnumerable<IRenderable[]> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey);
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Markup($"[bold]{Markup.Escape(header)}[/]")));
        }

        foreach (var row in rows)
        {
            table.AddRow(row);
        }

        For(output).Write(table);
    }

    public static IRenderable Text(string? text, string? style = null) =>
        style is null ? new Text(text ?? string.Empty) : new Markup($"[{style}]{Markup.Escape(text ?? string.Empty)}[/]");
}
