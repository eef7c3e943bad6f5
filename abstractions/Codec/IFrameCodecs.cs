using System.Diagnostics.CodeAnalysis;

namespace Plexus;

/// <summary>
/// The codecs this host has, by name: those its plugins provide, and any the application registers itself. A
/// transport offers <see cref="Default"/> when a connection starts and looks up the name its peer offers; a name it
/// does not have is a clear error.
/// </summary>
public interface IFrameCodecs
{
    /// <summary>The codec configured for the request plane (<c>Plexus:RequestPlane:Codec</c>).</summary>
    IFrameCodec Default { get; }

    /// <summary>Finds a codec by name, ignoring case.</summary>
    /// <param name="name">The codec's name.</param>
    /// <param name="codec">The codec, when found.</param>
    /// <returns><see langword="true"/> when this host has a codec of that name.</returns>
    bool TryGet(string name, [NotNullWhen(true)] out IFrameCodec? codec);
}
