namespace Plexus.Bench;

/// <summary>The command line is wrong; the bench prints the message and its usage and exits with code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
