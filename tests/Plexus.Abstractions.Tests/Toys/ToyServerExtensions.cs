using System.Runtime.CompilerServices;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>Lets the contract tests read <c>server.Register(…)</c> and <c>server.StartAsync(token)</c> over a <see cref="ToyDispatcher"/> per server.</summary>
internal static class ToyServerExtensions
{
    private static readonly ConditionalWeakTable<IRequestPlaneServer, ToyDispatcher> Dispatchers = [];

    public static ToyDispatcher Dispatcher(this IRequestPlaneServer server) => Dispatchers.GetValue(server, static _ => new ToyDispatcher());

    public static void Register(this IRequestPlaneServer server, EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler) =>
        server.Dispatcher().Register(endpoint, instance, handler);

    public static bool Unregister(this IRequestPlaneServer server, EndpointAddress endpoint) => server.Dispatcher().Unregister(endpoint);

    public static ValueTask StartAsync(this IRequestPlaneServer server, CancellationToken cancellationToken) =>
        server.StartAsync(server.Dispatcher(), cancellationToken);

    public static async ValueTask DrainAsync(this IRequestPlaneServer server, CancellationToken cancellationToken)
    {
        if (!await server.Dispatcher().DrainAsync(server, cancellationToken))
        {
            // Out of time: what still runs is aborted by closing the server.
        }

        await server.DisposeAsync();
    }
}
