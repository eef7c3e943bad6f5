using Microsoft.Extensions.Options;
using Plexus.Codec.TwoPart;

namespace Plexus.Benchmarks;

/// <summary>Builds the TwoPart codec plugin's codec as the host would, with or without checksums.</summary>
internal static class TwoPartCodecFactory
{
    public static TwoPartCodec Create(bool checksum) => new(Options.Create(new TwoPartCodecOptions { Checksum = checksum }));
}
