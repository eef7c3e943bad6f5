using System.Buffers;

namespace Plexus.Transport.Nats.Tests;

/// <summary>Builds multi-segment sequences, as a socket delivers bytes in pieces.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>A sequence of <paramref name="bytes"/> cut at each of <paramref name="cuts"/> (ascending offsets).</summary>
    /// <param name="bytes">The bytes.</param>
    /// <param name="cuts">Where one segment ends and the next begins.</param>
    /// <returns>The sequence.</returns>
    public static ReadOnlySequence<byte> Cut(byte[] bytes, params int[] cuts)
    {
        var bounds = new List<int> { 0 };
        bounds.AddRange(cuts.Where(c => c > 0 && c < bytes.Length));
        bounds.Add(bytes.Length);
        Segments? first = null;
        Segments? last = null;
        for (var i = 0; i + 1 < bounds.Count; i++)
        {
            // Copies, so that nothing can read past a segment's end by accident.
            var piece = bytes.AsSpan(bounds[i], bounds[i + 1] - bounds[i]).ToArray();
            var segment = new Segments(piece, bounds[i]);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Next = segment;
            }

            last = segment;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }
}
