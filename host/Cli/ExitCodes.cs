namespace Plexus.Host.Cli;

/// <summary>The host's exit codes.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A call (or a bench run) failed; standard error says why, with the typed error of a call.</summary>
    public const int RequestFailed = 1;

    /// <summary>The command line was wrong.</summary>
    public const int Usage = 2;

    /// <summary>A plugin listed in <c>Plexus:Plugins:Required</c> failed to load.</summary>
    public const int PluginFailed = 3;

    /// <summary>The configuration was invalid.</summary>
    public const int Configuration = 4;

    /// <summary>A command was cancelled by SIGINT (Ctrl+C): 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>A command was cancelled by SIGTERM: 128 + 15, as shells and service managers report it.</summary>
    public const int Terminated = 143;
}
