using System.Net;
using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Cluster;

/// <summary>The cluster's log events, 1600–1629.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Warning, Message = "Cluster token generated (Plexus:Cluster:Token was not set). Start the other nodes with: Plexus__Cluster__Join={JoinAddress} Plexus__Cluster__Token={Token} dotnet run --project host")]
    public static partial void TokenGenerated(ILogger logger, string joinAddress, string token);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Cluster {Cluster}: seed listening for joins at {Listen}; CA valid until {Expires:u}{State}")]
    public static partial void SeedListening(ILogger logger, string cluster, EndPoint listen, DateTimeOffset expires, string state);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "Node {Node} joined the cluster from {Remote}; its certificate expires {Expires:u}")]
    public static partial void MemberJoined(ILogger logger, string node, EndPoint? remote, DateTimeOffset expires);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "A node ({Node}) at {Remote} offered the wrong cluster token and was refused. If it belongs to this cluster, give it the token this seed uses (the 'cluster token' command prints the join line)")]
    public static partial void WrongToken(ILogger logger, string node, EndPoint? remote);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Warning, Message = "A node ({Node}) at {Remote} refused this seed: {Reason}")]
    public static partial void SeedRefused(ILogger logger, string node, EndPoint? remote, string reason);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Warning, Message = "A connection from {Remote} to the seed failed: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, EndPoint? remote, string reason);

    [LoggerMessage(EventId = 1606, Level = LogLevel.Information, Message = "Member {Node} left the member table: not heard from within {Lease} (Plexus:Cluster:MemberLease)")]
    public static partial void MemberExpired(ILogger logger, string node, TimeSpan lease);

    [LoggerMessage(EventId = 1607, Level = LogLevel.Information, Message = "Joined cluster {Cluster} through the seed at {Seed}; this node's certificate expires {Expires:u}")]
    public static partial void Joined(ILogger logger, string cluster, string seed, DateTimeOffset expires);

    [LoggerMessage(EventId = 1608, Level = LogLevel.Warning, Message = "The seed at {Seed} cannot be reached yet ({Reason}); retrying until {Timeout} (Plexus:Cluster:JoinTimeout) has passed")]
    public static partial void SeedUnreachable(ILogger logger, string seed, string reason, TimeSpan timeout);

    [LoggerMessage(EventId = 1609, Level = LogLevel.Information, Message = "Cluster certificate renewed; it expires {Expires:u}. Connections already open keep the old one")]
    public static partial void Renewed(ILogger logger, DateTimeOffset expires);

    [LoggerMessage(EventId = 1610, Level = LogLevel.Warning, Message = "Renewing this node's cluster certificate failed ({Reason}); retrying in {Retry}. The current one expires {Expires:u}")]
    public static partial void RenewFailed(ILogger logger, string reason, TimeSpan retry, DateTimeOffset expires);

    [LoggerMessage(EventId = 1611, Level = LogLevel.Warning, Message = "The seed at {Seed} did not answer a heartbeat ({Reason}); this node stays in the cluster and tries again")]
    public static partial void HeartbeatFailed(ILogger logger, string seed, string reason);

    [LoggerMessage(EventId = 1612, Level = LogLevel.Warning, Message = "The cluster CA in {State} expired on {Expires:u}; a new CA is made, and every member must join again")]
    public static partial void AuthorityExpired(ILogger logger, string state, DateTimeOffset expires);

    [LoggerMessage(EventId = 1613, Level = LogLevel.Warning, Message = "A member's control request '{Op}' failed: {Reason}")]
    public static partial void ControlFailed(ILogger logger, string op, string reason);
}
