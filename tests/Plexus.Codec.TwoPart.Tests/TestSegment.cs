using System.Buffers;

namespace Plexus.Codec.TwoPart.Tests;

/// <summary>One link of a hand-built multi-segment <see cref="ReadOnlySequence{T}"/>.</summary>
internal sealed class TestSegment : ReadOnlySequenceSegment<byte>
{
    public TestSegment(ReadOnlyMemory<byte> memory)
    {
        Memory = memory;
    }

    /// <summary>Links <paramref name="memory"/> after this segment and returns the new segment.</summary>
    public TestSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new TestSegment(memory) { RunningIndex = RunningIndex + Memory.Length };
        Next = next;
        return next;
    }
}
