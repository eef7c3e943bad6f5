namespace Plexus.Host.Cli;

/// <summary>Reads a command-line duration the way configuration reads one (<see cref="PlexusDuration"/>).</summary>
internal static class DurationParser
{
    /// <exception cref="UsageException">The text is not a duration; the message names the option.</exception>
    public static TimeSpan Parse(string option, string text) =>
        PlexusDuration.TryParse(text, out var value, out var error) ? value : throw new UsageException($"--{option}: {error}");
}
