namespace Plexus.Hosting.Plugins;

/// <summary>What became of a plugin.</summary>
internal enum PluginStatus
{
    /// <summary>Loaded; its components are registered.</summary>
    Loaded,

    /// <summary>Refused or broken; <see cref="PluginInfo.Error"/> says why and how to fix it.</summary>
    Failed,

    /// <summary>Skipped because configuration disables it.</summary>
    Disabled,
}
