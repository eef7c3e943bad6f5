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
    ];

    /// <summary>The contract types alone.</summary>
    public static Type[] Types { get; } = All.Select(c => c.Contract).ToArray();
}
