using Microsoft.Extensions.Options;
using Plexus.Hosting.Codecs;

namespace Plexus.Benchmarks;

/// <summary>Builds the host's TwoPart codec as the host would, with or without checksums.</summary>
internal static class TwoPartCodecFactory
{
    public static TwoPartCodec Create(bool checksum) => new(Options.Create(new TwoPartCodecOptions { Checksum = checksum }));
}
