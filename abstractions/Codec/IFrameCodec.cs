using System.Buffers;

namespace Plexus;

/// <summary>
/// Turns frames (a header part and a body part) into bytes and back. Named, and chosen by name when a
/// connection starts; both ends must use the same one.
/// </summary>
public interface IFrameCodec
{
    /// <summary>The codec's name, such as <c>twopart</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Reads one frame from the front of <paramref name="input"/>. On success <paramref name="input"/> is
    /// advanced past the frame and the frame's parts are slices of the original input (no copy).
    /// </summary>
    /// <param name="input">The bytes received so far; advanced past the frame on success.</param>
    /// <param name="limits">The sizes above which a frame is refused before any buffer is allocated for it.</param>
    /// <param name="frame">The frame, when one was complete.</param>
    /// <returns><see langword="false"/> when more bytes are needed.</returns>
    /// <exception cref="PlexusException">The bytes are not a valid frame (<see cref="PlexusErrorCode.ProtocolError"/>) or exceed <paramref name="limits"/> (<see cref="PlexusErrorCode.PayloadTooLarge"/>).</exception>
    bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame);

    /// <summary>Writes one frame.</summary>
    /// <param name="header">The header part.</param>
    /// <param name="body">The body part.</param>
    /// <param name="output">Where the bytes go.</param>
    void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output);
}
