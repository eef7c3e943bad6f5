namespace Plexus.Bench;

/// <summary>The bench's exit codes, the same as the host's for the same causes.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A measurement failed; standard error says why.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong.</summary>
    public const int Usage = 2;

    /// <summary>A plugin listed in <c>Plexus:Plugins:Required</c> failed to load.</summary>
    public const int PluginFailed = 3;

    /// <summary>The configuration was invalid.</summary>
    public const int Configuration = 4;

    /// <summary>The run was cancelled by SIGINT (Ctrl+C): 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>The run was cancelled by SIGTERM: 128 + 15, as shells and service managers report it.</summary>
    public const int Terminated = 143;
}
