using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Received bytes in rented memory: one array for the common case, a chain of segments for large payloads. A struct,
/// so a message costs no allocation of its own; <see cref="Return"/> gives the memory back exactly once.
/// </summary>
internal readonly struct PooledPayload
{
    private readonly byte[]? _array;
    private readonly PooledSegment? _first;
    private readonly PooledSegment? _last;

    public PooledPayload(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    public PooledPayload(PooledSegment first, PooledSegment last, long length)
    {
        _first = first;
        _last = last;
        Length = length;
    }

    /// <summary>The number of bytes.</summary>
    public long Length { get; }

    /// <summary>The bytes, as a view of the rented memory.</summary>
    public ReadOnlySequence<byte> ToSequence()
    {
        if (_array is not null)
        {
            return new ReadOnlySequence<byte>(_array, 0, (int)Length);
        }

        return _first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(_first, 0, _last!, _last!.Used);
    }

    /// <summary>Returns the rented memory to <paramref name="pool"/>.</summary>
    public void Return(ArrayPool<byte> pool)
    {
        if (_array is not null)
        {
            pool.Return(_array);
            return;
        }

        for (var segment = _first; segment is not null; segment = segment.NextSegment)
        {
            pool.Return(segment.Array);
        }
    }
}
