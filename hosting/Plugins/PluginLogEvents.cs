using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Plugins;

/// <summary>Event ids of the plugin loader's log lines, so that operators can filter and alert on them.</summary>
internal static class PluginLogEvents
{
    public static readonly EventId Loaded = new(1001, "PluginLoaded");
    public static readonly EventId Disabled = new(1002, "PluginDisabled");
    public static readonly EventId Failed = new(1003, "PluginFailed");
    public static readonly EventId PathMissing = new(1004, "PluginPathMissing");
    public static readonly EventId ActivationFailed = new(1005, "PluginActivationFailed");
}
