using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Hosting.RequestPlane.Server;

/// <summary>Registers endpoints this process serves.</summary>
internal static class EndpointServiceCollectionExtensions
{
    /// <summary>Serves <paramref name="endpoint"/> with the handler <paramref name="createHandler"/> makes.</summary>
    public static IServiceCollection AddPlexusEndpoint(this IServiceCollection services, string endpoint, Func<IServiceProvider, IEndpointHandler> createHandler)
    {
        services.AddSingleton(new EndpointRegistration(EndpointAddress.Parse(endpoint), createHandler));
        return services;
    }

    /// <summary>Serves <paramref name="endpoint"/> with a handler of type <typeparamref name="THandler"/> created by DI.</summary>
    public static IServiceCollection AddPlexusEndpoint<THandler>(this IServiceCollection services, string endpoint)
        where THandler : class, IEndpointHandler =>
        services.AddPlexusEndpoint(endpoint, static sp => ActivatorUtilities.CreateInstance<THandler>(sp));
}
