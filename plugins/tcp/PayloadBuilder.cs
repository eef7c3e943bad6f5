using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Assembles received bytes (a request payload, a response message) into rented memory as they arrive, one copy
/// from the socket's pipe. Memory grows with what actually arrived, never with what a peer merely declared.
/// </summary>
internal sealed class PayloadBuilder
{
    private const int MinimumChunk = 16 * 1024;
    private const int MaximumChunk = 1024 * 1024;

    private readonly ArrayPool<byte> _pool;
    private byte[]? _single;
    private int _singleUsed;
    private PooledSegment? _first;
    private PooledSegment? _last;

    public PayloadBuilder(ArrayPool<byte> pool)
    {
        _pool = pool;
    }

    /// <summary>Bytes appended since the last <see cref="Take"/>.</summary>
    public long Length { get; private set; }

    /// <summary>Whether anything is held.</summary>
    public bool IsEmpty => _single is null && _first is null;

    /// <summary>Copies <paramref name="data"/> in.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="sizeHint">How large the first array should be, when the total is known (and trusted) up front.</param>
    public void Append(in ReadOnlySequence<byte> data, int sizeHint)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var remaining = data;
        if (_single is null && _first is null)
        {
            _single = _pool.Rent((int)Math.Max(sizeHint, remaining.Length));
            _singleUsed = 0;
        }

        if (_single is not null)
        {
            var room = _single.Length - _singleUsed;
            var n = (int)Math.Min(room, remaining.Length);
            remaining.Slice(0, n).CopyTo(_single.AsSpan(_singleUsed));
            _singleUsed += n;
            Length += n;
            remaining = remaining.Slice(n);
            if (remaining.IsEmpty)
            {
                return;
            }

            // Outgrew one array: it becomes the first segment of a chain.
            _first = _last = new PooledSegment(_single, _singleUsed, 0);
            _single = null;
        }

        while (!remaining.IsEmpty)
        {
            var room = _last!.Array.Length - _last.Used;
            if (room == 0)
            {
                var size = (int)Math.Max(remaining.Length, Math.Clamp(2L * _last.Array.Length, MinimumChunk, MaximumChunk));
                var next = new PooledSegment(_pool.Rent(size), 0, _last.RunningIndex + _last.Used);
                _last.Link(next);
                _last = next;
                room = next.Array.Length;
            }

            var n = (int)Math.Min(room, remaining.Length);
            remaining.Slice(0, n).CopyTo(_last.Array.AsSpan(_last.Used));
            _last.Grow(n);
            Length += n;
            remaining = remaining.Slice(n);
        }
    }

    /// <summary>Hands over what was assembled and starts empty.</summary>
    public PooledPayload Take()
    {
        PooledPayload payload;
        if (_single is not null)
        {
            payload = new PooledPayload(_single, _singleUsed);
        }
        else if (_first is not null)
        {
            payload = new PooledPayload(_first, _last!, Length);
        }
        else
        {
            payload = default;
        }

        _single = null;
        _first = _last = null;
        _singleUsed = 0;
        Length = 0;
        return payload;
    }

    /// <summary>Returns whatever is held to the pool.</summary>
    public void Discard() => Take().Return(_pool);
}
