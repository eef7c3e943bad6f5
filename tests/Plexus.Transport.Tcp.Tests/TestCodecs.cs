using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Plexus.Codec.TwoPart;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>A codec set as the host would offer it: the first codec is the configured one.</summary>
internal sealed class TestCodecs(params IFrameCodec[] codecs) : IFrameCodecs
{
    public IFrameCodec Default => codecs[0];

    /// <summary>The stock host's default: TwoPart only.</summary>
    public static TestCodecs TwoPart() => new(NewTwoPart());

    public static TwoPartCodec NewTwoPart() => new(Options.Create(new TwoPartCodecOptions()));

    public bool TryGet(string name, [NotNullWhen(true)] out IFrameCodec? codec)
    {
        foreach (var candidate in codecs)
        {
            if (string.Equals(candidate.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                codec = candidate;
                return true;
            }
        }

        codec = null;
        return false;
    }
}
