using Plexus;
using Plexus.Hosting.RequestPlane.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the endpoints an application serves on the request plane.</summary>
public static class PlexusEndpointServiceCollectionExtensions
{
    /// <summary>Serves <paramref name="endpoint"/> with a handler of type <typeparamref name="THandler"/>, created once by
    /// dependency injection when the server starts (constructor injection of loggers, options and <see cref="IPlexusClient"/>).</summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="services">The application's services.</param>
    /// <param name="endpoint">The endpoint, <c>namespace/component/endpoint</c>.</param>
    /// <returns>The services.</returns>
    /// <exception cref="FormatException"><paramref name="endpoint"/> is not an endpoint address.</exception>
    public static IServiceCollection AddPlexusEndpoint<THandler>(this IServiceCollection services, string endpoint)
        where THandler : class, IEndpointHandler =>
        services.AddPlexusEndpoint(endpoint, static sp => ActivatorUtilities.CreateInstance<THandler>(sp));

    /// <summary>Serves <paramref name="endpoint"/> with the handler <paramref name="createHandler"/> makes when the server starts.</summary>
    /// <param name="services">The application's services.</param>
    /// <param name="endpoint">The endpoint, <c>namespace/component/endpoint</c>.</param>
    /// <param name="createHandler">Creates the handler.</param>
    /// <returns>The services.</returns>
    /// <exception cref="FormatException"><paramref name="endpoint"/> is not an endpoint address.</exception>
    public static IServiceCollection AddPlexusEndpoint(this IServiceCollection services, string endpoint, Func<IServiceProvider, IEndpointHandler> createHandler)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(createHandler);
        services.AddSingleton(new EndpointRegistration(EndpointAddress.Parse(endpoint), createHandler));
        return services;
    }

    /// <summary>Serves <paramref name="endpoint"/> with a delegate: it takes the request and writes the response messages.</summary>
    /// <param name="services">The application's services.</param>
    /// <param name="endpoint">The endpoint, <c>namespace/component/endpoint</c>.</param>
    /// <param name="handler">The handler; returning ends the stream, throwing ends it with a typed error.</param>
    /// <returns>The services.</returns>
    /// <exception cref="FormatException"><paramref name="endpoint"/> is not an endpoint address.</exception>
    public static IServiceCollection MapPlexusEndpoint(this IServiceCollection services, string endpoint, Func<RequestContext, IResponseWriter, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var served = new DelegateEndpointHandler(handler);
        return services.AddPlexusEndpoint(endpoint, _ => served);
    }
}
