using System.Buffers;

namespace Plexus.Transport.Nats;

/// <summary>
/// Entries gathered for one NATS message (packed messages, heads, answers), back to back in one pooled array that
/// grows as they come and goes back to the pool once the message is published. The next array is sized after the
/// last message, so a steady flow rents once per message and never grows it. A mutable struct kept in a field of
/// its owner and used only through that field, under the owner's lock: copied, it would lose track of its array.
/// </summary>
internal struct GatherBuffer(int initialSize)
{
    private byte[]? _array;
    private int _sizeHint = initialSize;

    /// <summary>The bytes gathered so far.</summary>
    public int Length { get; private set; }

    /// <summary>The entries gathered so far.</summary>
    public int Count { get; private set; }

    /// <summary>What has been gathered; valid until <see cref="Clear"/> or the next <see cref="Reserve"/>.</summary>
    public readonly ReadOnlySequence<byte> Contents => _array is null ? ReadOnlySequence<byte>.Empty : new(_array, 0, Length);

    /// <summary>Room for one more entry; write it there, then call <see cref="Added"/>.</summary>
    /// <param name="needed">The entry's bytes.</param>
    /// <param name="limit">The most a message holds: the array grows no larger unless one entry needs it.</param>
    /// <returns>Exactly <paramref name="needed"/> bytes of room after what was gathered.</returns>
    public Span<byte> Reserve(int needed, int limit)
    {
        var required = Length + needed;
        if (_array is null || _array.Length < required)
        {
            var bigger = BoundedArrayPool.Instance.Rent(Math.Max(required, Math.Min(limit, Math.Max(_sizeHint, 2 * (_array?.Length ?? 0)))));
            if (_array is not null)
            {
                _array.AsSpan(0, Length).CopyTo(bigger);
                BoundedArrayPool.Instance.Return(_array);
            }

            _array = bigger;
        }

        return _array.AsSpan(Length, needed);
    }

    /// <summary>Counts the entry written into the room <see cref="Reserve"/> gave.</summary>
    /// <param name="length">Its bytes.</param>
    public void Added(int length)
    {
        Length += length;
        Count++;
    }

    /// <summary>Starts over, the array back in the pool: call once the contents were copied into the connection (or dropped).</summary>
    public void Clear()
    {
        if (_array is not null)
        {
            _sizeHint = Math.Max(Length, 64);
            BoundedArrayPool.Instance.Return(_array);
            _array = null;
        }

        Length = 0;
        Count = 0;
    }
}
