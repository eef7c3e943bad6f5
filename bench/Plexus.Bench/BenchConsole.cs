using Spectre.Console;

namespace Plexus.Bench;

/// <summary>A Spectre.Console console over a writer that is a terminal, for the progress bar and the drawn table.</summary>
internal static class BenchConsole
{
    public static IAnsiConsole For(TextWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
}
