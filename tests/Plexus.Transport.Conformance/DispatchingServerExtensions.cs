using System.Runtime.CompilerServices;
using Plexus.Hosting;

namespace Plexus;

/// <summary>
/// Drives a transport's server in a test the way the core does: one <see cref="RequestDispatcher"/> per server, with
/// handlers registered on it, started with it, and drained through it. Lets a test read
/// <c>server.Register(…)</c>, <c>server.StartAsync(token)</c> and <c>server.DrainAsync(token)</c>.
/// </summary>
public static class DispatchingServerExtensions
{
    private static readonly ConditionalWeakTable<IRequestPlaneServer, RequestDispatcher> Dispatchers = [];

    /// <summary>The dispatcher this server is (or will be) started with.</summary>
    /// <param name="server">The server.</param>
    /// <returns>Its dispatcher.</returns>
    public static RequestDispatcher Dispatcher(this IRequestPlaneServer server) => Dispatchers.GetValue(server, static _ => new RequestDispatcher());

    /// <summary>Serves an endpoint on this server's dispatcher.</summary>
    /// <param name="server">The server.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance id.</param>
    /// <param name="handler">The handler.</param>
    public static void Register(this IRequestPlaneServer server, EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler) =>
        server.Dispatcher().Register(endpoint, instance, handler);

    /// <summary>Stops serving an endpoint on this server's dispatcher.</summary>
    /// <param name="server">The server.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns>Whether it was served.</returns>
    public static bool Unregister(this IRequestPlaneServer server, EndpointAddress endpoint) => server.Dispatcher().Unregister(endpoint);

    /// <summary>Starts the server with its dispatcher.</summary>
    /// <param name="server">The server.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the server accepts requests.</returns>
    public static ValueTask StartAsync(this IRequestPlaneServer server, CancellationToken cancellationToken) =>
        server.StartAsync(server.Dispatcher(), cancellationToken);

    /// <summary>The core's graceful stop: drain through the dispatcher, then close the server.</summary>
    /// <param name="server">The server.</param>
    /// <param name="cancellationToken">The end of the grace period; what still runs then is aborted.</param>
    /// <returns>A task that completes when the server is closed.</returns>
    public static async ValueTask DrainAsync(this IRequestPlaneServer server, CancellationToken cancellationToken)
    {
        await server.Dispatcher().DrainAsync(server, cancellationToken);
        await server.DisposeAsync();
    }
}
