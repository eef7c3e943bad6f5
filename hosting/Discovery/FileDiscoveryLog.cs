using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Discovery;

/// <summary>Log messages of the <c>file</c> discovery provider.</summary>
internal static partial class FileDiscoveryLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Ignoring discovery file {Path}: {Problem}. It is left in place; delete it if no process owns it.")]
    public static partial void IgnoringCorruptFile(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Could not read discovery directory {Path}: {Problem}")]
    public static partial void CannotReadDirectory(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Deleted expired discovery file {Path} (expired at {ExpiresAt:O})")]
    public static partial void DeletedExpired(ILogger logger, string path, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information,
        Message = "Registered {Endpoint} instance {InstanceId} in {Path}, replacing a live registration written by process {ProcessId}")]
    public static partial void ReplacedLiveRegistration(ILogger logger, string endpoint, string instanceId, string path, int processId);
}
