using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>Joins a generic host application to the Plexus request plane.</summary>
public static class PlexusHostApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the request plane configured by the builder's <c>Plexus</c> section (appsettings.json, the environment,
    /// the command line): see <see cref="PlexusServiceCollectionExtensions.AddPlexus"/>.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <returns>The builder.</returns>
    public static IHostApplicationBuilder AddPlexus(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPlexus(builder.Configuration);
        return builder;
    }
}
