using Microsoft.Extensions.Logging;

namespace Plexus.Router.Affinity;

/// <summary>The plugin's log events (1700–1709).</summary>
internal static partial class AffinityLog
{
    [LoggerMessage(EventId = 1700, Level = LogLevel.Warning, Message = "Instance {Instance} of {Endpoint} published a malformed '" + AffinityHeaders.PrefixBlocksMetadata + "' value (entries must be 1 to 16 hex digits, comma-separated); the blocks before the bad entry are used.")]
    public static partial void MalformedBlocks(ILogger logger, InstanceId instance, EndpointAddress endpoint);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Debug, Message = "Instance {Instance} of {Endpoint} has been missing from the candidates for {DropAfter}; its index entries are dropped.")]
    public static partial void InstanceDropped(ILogger logger, InstanceId instance, EndpointAddress endpoint, TimeSpan dropAfter);
}
