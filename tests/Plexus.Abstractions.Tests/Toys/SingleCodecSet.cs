using System.Diagnostics.CodeAnalysis;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>The codec set a transport would be given, holding one codec.</summary>
internal sealed class SingleCodecSet(IFrameCodec codec) : IFrameCodecs
{
    public IFrameCodec Default => codec;

    public bool TryGet(string name, [NotNullWhen(true)] out IFrameCodec? found)
    {
        found = string.Equals(name, codec.Name, StringComparison.OrdinalIgnoreCase) ? codec : null;
        return found is not null;
    }
}
