using System.Buffers;

namespace Plexus;

/// <summary>One frame read by an <see cref="IFrameCodec"/>: a header part and a body part.</summary>
/// <param name="Header">The header part.</param>
/// <param name="Body">The body part.</param>
public readonly record struct Frame(ReadOnlySequence<byte> Header, ReadOnlySequence<byte> Body);
