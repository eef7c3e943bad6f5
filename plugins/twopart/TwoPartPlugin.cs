using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: Plexus.PlexusPlugin("twopart")]

namespace Plexus.Codec.TwoPart;

/// <summary>
/// The plugin's entry: binds <see cref="TwoPartCodecOptions"/> from <c>Plexus:Codecs:TwoPart</c> and checks them when
/// the host starts. The host's scan finds <see cref="TwoPartCodec"/> itself and offers it to the composition, which
/// picks a codec by name (<c>Plexus:RequestPlane:Codec</c>).
/// </summary>
internal sealed class TwoPartPlugin : IPlexusPlugin
{
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Unknown keys fail binding so that a misspelt setting names itself instead of being ignored.
        services.AddOptions<TwoPartCodecOptions>()
            .Bind(configuration.GetSection(TwoPartCodecOptions.SectionName), binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
    }
}
