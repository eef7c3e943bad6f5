namespace Plexus.Hosting.Plugins;

/// <summary>The contracts a plugin's classes are scanned for, and the kind each one makes a plugin.</summary>
internal static class PluginContracts
{
    /// <summary>Contract types in the order kinds are listed.</summary>
    public static IReadOnlyList<(Type Contract, string Kind)> All { get; } =
    [
        (typeof(ITransportFactory), "transport"),
        (typeof(IFrameCodec), "codec"),
        (typeof(IRouterStrategy), "router"),
        (typeof(IDiscoveryProvider), "discovery"),
        (typeof(IBulkTransport), "bulk"),
        (typeof(IEndpointHandler), "service"),
    ];

    /// <summary>
    /// The contracts every implementation of which is a component. An <see cref="IEndpointHandler"/> is one only when
    /// marked <see cref="PlexusEndpointAttribute"/>: a plugin may keep unmarked handlers for its own use.
    /// </summary>
    public static Type[] Types { get; } = All.Select(c => c.Contract).Where(c => c != typeof(IEndpointHandler)).ToArray();
}
