namespace Plexus.Host.Cli;

/// <summary>The command line is wrong; the host prints the message (and the usage, unless it would not help) and exits with code 2.</summary>
internal sealed class UsageException(string message, bool showUsage = true) : Exception(message)
{
    /// <summary>Whether the command's usage follows the message; not when the message alone says all, such as a file over a limit.</summary>
    public bool ShowUsage { get; } = showUsage;
}
