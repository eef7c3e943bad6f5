using System.Buffers;

namespace Plexus.Transport.Conformance;

/// <summary>
/// Builds a long <see cref="ReadOnlySequence{T}"/> whose segments all point at one small array, so a test can offer a
/// payload larger than a limit without allocating it. A transport that checks limits before copying never notices.
/// </summary>
internal sealed class RepeatedSegment : ReadOnlySequenceSegment<byte>
{
    private RepeatedSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Sequence(byte[] block, long totalLength)
    {
        var first = new RepeatedSegment(block.AsMemory(0, (int)Math.Min(block.Length, totalLength)), 0);
        var last = first;
        var length = (long)first.Memory.Length;
        while (length < totalLength)
        {
            var n = (int)Math.Min(block.Length, totalLength - length);
            var next = new RepeatedSegment(block.AsMemory(0, n), length);
            last.Next = next;
            last = next;
            length += n;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
