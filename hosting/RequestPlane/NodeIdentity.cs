using Microsoft.Extensions.Options;
using Plexus.Hosting.Configuration;

namespace Plexus.Hosting.RequestPlane;

/// <summary>This process's node id: <c>Plexus:NodeId</c>, or a random one.</summary>
internal sealed class NodeIdentity
{
    public NodeIdentity(IOptions<PlexusOptions> options)
    {
        var configured = options.Value.NodeId;
        Id = string.IsNullOrWhiteSpace(configured) ? $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{InstanceId.NewId().ToString()[..6]}" : configured;
    }

    public string Id { get; }
}
