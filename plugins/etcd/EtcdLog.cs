using Microsoft.Extensions.Logging;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// The etcd discovery provider's log lines, with stable event ids (2301–2312) so that operators can filter and alert on
/// them. Each problem is logged once when it starts, saying what is kept and what to do, and once when it ends.
/// </summary>
internal static partial class EtcdLog
{
    [LoggerMessage(EventId = 2301, EventName = "EtcdUnreachable", Level = LogLevel.Warning,
        Message = "Discovery cannot reach etcd: {Problem}. This node's registrations ({Count} so far) are kept and published when etcd answers; retrying with backoff (up to {MaxBackoff}).")]
    public static partial void Unreachable(ILogger logger, string problem, int count, TimeSpan maxBackoff);

    [LoggerMessage(EventId = 2302, EventName = "EtcdReachable", Level = LogLevel.Information,
        Message = "Discovery reaches etcd again after {Outage}; this node's registrations ({Count}) are published under lease {LeaseId:x}.")]
    public static partial void Reachable(ILogger logger, TimeSpan outage, int count, long leaseId);

    [LoggerMessage(EventId = 2303, EventName = "EtcdLeaseLost", Level = LogLevel.Warning,
        Message = "This node's etcd lease {LeaseId:x} is gone ({Reason}), and with it its {Count} instances: watchers saw them removed. Registering them again under a new lease. If this repeats, raise Plexus:Discovery:Etcd:LeaseTtl or fix the network between this node and etcd.")]
    public static partial void LeaseLost(ILogger logger, long leaseId, string reason, int count);

    [LoggerMessage(EventId = 2304, EventName = "EtcdLeaseGranted", Level = LogLevel.Debug,
        Message = "etcd granted lease {LeaseId:x} with a time to live of {Ttl} s.")]
    public static partial void LeaseGranted(ILogger logger, long leaseId, long ttl);

    [LoggerMessage(EventId = 2305, EventName = "EtcdWatchBroken", Level = LogLevel.Warning,
        Message = "The etcd watch of {Endpoint} broke after revision {Revision}: {Problem}. It resumes from revision {Next} when etcd answers, so no change is missed; until then this node's view of {Endpoint} may be stale.")]
    public static partial void WatchBroken(ILogger logger, string endpoint, long revision, string problem, long next);

    [LoggerMessage(EventId = 2306, EventName = "EtcdWatchResumed", Level = LogLevel.Information,
        Message = "The etcd watch of {Endpoint} resumed from revision {Next}.")]
    public static partial void WatchResumed(ILogger logger, string endpoint, long next);

    [LoggerMessage(EventId = 2307, EventName = "EtcdWatchCompacted", Level = LogLevel.Warning,
        Message = "The etcd watch of {Endpoint} needed revision {Next}, but etcd compacted its history up to {CompactRevision}; listed the endpoint again at revision {Revision} and passed on the difference ({Added} added, {Removed} removed, {Updated} updated). No instance is missed; changes in between are merged. If this repeats, keep more history in etcd (--auto-compaction-retention).")]
    public static partial void WatchCompacted(ILogger logger, string endpoint, long next, long compactRevision, long revision, int added, int removed, int updated);

    [LoggerMessage(EventId = 2308, EventName = "EtcdBadKey", Level = LogLevel.Warning,
        Message = "Ignoring etcd key {Key}: {Problem}. It is left in place; delete it if no Plexus node wrote it, or move other data out of Plexus:Discovery:Etcd:Prefix.")]
    public static partial void IgnoringKey(ILogger logger, string key, string problem);

    [LoggerMessage(EventId = 2309, EventName = "EtcdUnregisterPending", Level = LogLevel.Warning,
        Message = "{Count} instances could not be removed from etcd before discovery stopped ({Problem}); they vanish when lease {LeaseId:x} expires, within {Ttl} s.")]
    public static partial void UnregisterPending(ILogger logger, int count, string problem, long leaseId, long ttl);

    [LoggerMessage(EventId = 2310, EventName = "EtcdReplacedRegistration", Level = LogLevel.Information,
        Message = "{Endpoint} instance {InstanceId} was registered again in this process; the new registration wins and the earlier lease learns on its next renewal.")]
    public static partial void ReplacedRegistration(ILogger logger, string endpoint, string instanceId);

    [LoggerMessage(EventId = 2311, EventName = "EtcdListFailed", Level = LogLevel.Debug,
        Message = "Listing {Prefix} in etcd failed: {Problem}.")]
    public static partial void ListFailed(ILogger logger, string prefix, string problem);

    [LoggerMessage(EventId = 2313, EventName = "EtcdAttemptFailed", Level = LogLevel.Debug,
        Message = "An attempt to publish registrations or renew lease {LeaseId:x} failed ({Failures} in a row): {Problem}.")]
    public static partial void AttemptFailed(ILogger logger, long leaseId, int failures, string problem);

    [LoggerMessage(EventId = 2312, EventName = "EtcdLeaseRevoked", Level = LogLevel.Debug,
        Message = "Revoked lease {LeaseId:x} as discovery stopped.")]
    public static partial void LeaseRevoked(ILogger logger, long leaseId);
}
