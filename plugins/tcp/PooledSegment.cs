using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>One rented array in a chain that forms a <see cref="ReadOnlySequence{T}"/> of received bytes.</summary>
internal sealed class PooledSegment : ReadOnlySequenceSegment<byte>
{
    public PooledSegment(byte[] array, int used, long runningIndex)
    {
        Array = array;
        Used = used;
        RunningIndex = runningIndex;
        Memory = array.AsMemory(0, used);
    }

    /// <summary>The rented array.</summary>
    public byte[] Array { get; }

    /// <summary>How many of its bytes hold data.</summary>
    public int Used { get; private set; }

    /// <summary>Records that <paramref name="count"/> more bytes were written after <see cref="Used"/>.</summary>
    public void Grow(int count)
    {
        Used += count;
        Memory = Array.AsMemory(0, Used);
    }

    /// <summary>Appends the next segment.</summary>
    public void Link(PooledSegment next) => Next = next;

    /// <summary>The next segment, typed.</summary>
    public PooledSegment? NextSegment => (PooledSegment?)Next;
}
