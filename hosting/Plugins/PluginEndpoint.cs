namespace Plexus.Hosting.Plugins;

/// <summary>An endpoint a plugin serves: a class marked <see cref="PlexusEndpointAttribute"/>.</summary>
/// <param name="Plugin">The plugin's name.</param>
/// <param name="Endpoint">The endpoint as the attribute names it, before any namespace override of the node.</param>
/// <param name="HandlerType">The handler class, registered as a singleton of its own type.</param>
internal sealed record PluginEndpoint(string Plugin, EndpointAddress Endpoint, Type HandlerType);
