namespace Plexus.Host.Cli;

/// <summary>The command line was wrong; exit code 2, with the command's usage unless <see cref="ShowUsage"/> is false.</summary>
internal sealed class UsageException(string message, bool showUsage = true) : Exception(message)
{
    /// <summary>Whether the command's usage follows the message; not when the message alone says all, such as a file over a limit.</summary>
    public bool ShowUsage { get; } = showUsage;

    /// <summary>The command whose usage to show; null for the general one.</summary>
    public string? Command { get; init; }
}
