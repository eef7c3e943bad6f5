namespace Plexus;

/// <summary>
/// Marks a class of a plugin's main assembly as the handler of an endpoint. The class implements
/// <see cref="IEndpointHandler"/>; when the host loads the plugin it finds the class and serves the endpoint, so a
/// plugin folder is all a node needs to serve a service. The host creates the handler once, through dependency
/// injection: its constructor may take <c>ILogger&lt;T&gt;</c>, <c>IOptions&lt;T&gt;</c> of options the plugin's
/// <see cref="IPlexusPlugin"/> entry binds, <see cref="IPlexusClient"/> to call other endpoints, and any other
/// service of the host.
/// </summary>
/// <remarks>
/// Apply the attribute several times to serve several endpoints with one handler; they share one instance, and
/// <see cref="RequestContext.Endpoint"/> tells them apart. Which of the endpoints a node serves, and under which
/// namespace, is the node's configuration (<c>Plexus:Endpoints</c>).
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PlexusEndpointAttribute : Attribute
{
    /// <summary>Names the endpoint the class serves.</summary>
    /// <param name="endpoint">The endpoint, <c>namespace/component/endpoint</c>, such as <c>demo/echo/echo</c>.</param>
    public PlexusEndpointAttribute(string endpoint)
    {
        Endpoint = endpoint;
    }

    /// <summary>The endpoint, <c>namespace/component/endpoint</c>, as written on the class.</summary>
    public string Endpoint { get; }
}
