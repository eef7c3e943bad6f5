using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Plexus.Hosting.Codecs;

/// <summary>Registers the codecs built into the host.</summary>
internal static class CodecServiceCollectionExtensions
{
    /// <summary>
    /// Adds the TwoPart codec as an <see cref="IFrameCodec"/> beside any other codec (plugins add theirs the same way;
    /// the composition picks one by name), with <see cref="TwoPartCodecOptions"/> bound from
    /// <c>Plexus:Codecs:TwoPart</c> and checked when the host starts.
    /// </summary>
    public static IServiceCollection AddTwoPartCodec(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Unknown keys fail binding so that a misspelt setting names itself instead of being ignored.
        services.AddOptions<TwoPartCodecOptions>()
            .Bind(configuration.GetSection(TwoPartCodecOptions.SectionName), binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFrameCodec, TwoPartCodec>());
        return services;
    }
}
