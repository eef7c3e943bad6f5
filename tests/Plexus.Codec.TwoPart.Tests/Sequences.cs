using System.Buffers;

namespace Plexus.Codec.TwoPart.Tests;

/// <summary>Builds <see cref="ReadOnlySequence{T}"/> instances with chosen segment boundaries.</summary>
internal static class Sequences
{
    /// <summary>A sequence whose segments are the given chunks, in order (empty chunks included).</summary>
    public static ReadOnlySequence<byte> FromChunks(params ReadOnlyMemory<byte>[] chunks)
    {
        if (chunks.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new TestSegment(chunks[0]);
        var last = first;
        for (var i = 1; i < chunks.Length; i++)
        {
            last = last.Append(chunks[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Two segments: bytes before <paramref name="splitAt"/> and bytes from it on.</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] bytes, int splitAt) =>
        FromChunks(bytes.AsMemory(0, splitAt), bytes.AsMemory(splitAt));

    /// <summary>One segment per byte, each in its own array so no two segments share memory.</summary>
    public static ReadOnlySequence<byte> OneSegmentPerByte(byte[] bytes)
    {
        var chunks = new ReadOnlyMemory<byte>[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            chunks[i] = new[] { bytes[i] };
        }

        return FromChunks(chunks);
    }
}
