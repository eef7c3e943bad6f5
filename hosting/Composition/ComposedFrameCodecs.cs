using System.Diagnostics.CodeAnalysis;

namespace Plexus.Hosting.Composition;

/// <summary>The codecs of the composition, as transports see them.</summary>
internal sealed class ComposedFrameCodecs(PlexusComposition composition) : IFrameCodecs
{
    public IFrameCodec Default => composition.Codec;

    public bool TryGet(string name, [NotNullWhen(true)] out IFrameCodec? codec)
    {
        var found = composition.Codecs.TryGet(name, out var match);
        codec = found ? match : null;
        return found;
    }
}
