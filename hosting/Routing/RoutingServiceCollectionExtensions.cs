using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Plexus.Hosting.Routing;

/// <summary>Registers the router strategies built into the host.</summary>
internal static class RoutingServiceCollectionExtensions
{
    /// <summary>
    /// Adds round-robin, random, direct, power-of-two and least-loaded as <see cref="IRouterStrategy"/> singletons,
    /// beside any a plugin adds; the composition picks one by name from <c>Plexus:Router:Strategy</c>.
    /// </summary>
    public static IServiceCollection AddBuiltInRouterStrategies(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouterStrategy, RoundRobinRouter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouterStrategy, RandomRouter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouterStrategy, DirectRouter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouterStrategy, PowerOfTwoChoicesRouter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouterStrategy, LeastLoadedRouter>());
        return services;
    }
}
