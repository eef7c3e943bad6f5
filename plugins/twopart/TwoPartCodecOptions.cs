namespace Plexus.Codec.TwoPart;

/// <summary>Settings of the TwoPart codec, bound from <c>Plexus:Codecs:TwoPart</c>.</summary>
internal sealed class TwoPartCodecOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Codecs:TwoPart";

    /// <summary>
    /// Whether written frames carry a CRC-32C over header and body. Reading always verifies a checksum a frame
    /// carries, whatever this says, so the two ends need not agree on it.
    /// </summary>
    public bool Checksum { get; set; }
}
