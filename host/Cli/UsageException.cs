namespace Plexus.Host.Cli;

/// <summary>The command line is wrong; the host prints the usage and exits with code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
