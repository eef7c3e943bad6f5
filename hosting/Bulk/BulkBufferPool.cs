using System.Numerics;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// Registered buffers of the bulk transport, reused by power-of-two size so that a steady flow of large payloads
/// neither allocates nor registers memory per payload. At most <c>Plexus:Bulk:PoolBytes</c> is kept; a buffer beyond
/// that, or larger than 1 GiB, is released a grace period (<c>Plexus:Bulk:HoldTimeout</c>) after it comes back: a peer
/// may still hold its descriptor, and UCX 1.13 crashes a reader's process when it unpacks the key of UCX-allocated
/// memory that is gone (measured), so memory a peer could still name is never unmapped at once.
/// </summary>
internal sealed class BulkBufferPool : IDisposable
{
    private const int SmallestClass = 16;
    private const int LargestClass = 30;

    private readonly IBulkTransport _transport;
    private readonly long _capacity;
    private readonly TimeProvider _time;
    private readonly TimeSpan _grace;
    private readonly HashSet<ITimer> _retiring = [];
    private readonly Stack<IBulkBuffer>[] _free = new Stack<IBulkBuffer>[LargestClass + 1];
    private readonly Lock _gate = new();
    private long _kept;
    private bool _disposed;

    public BulkBufferPool(IBulkTransport transport, long capacity, TimeProvider time, TimeSpan grace)
    {
        _transport = transport;
        _capacity = capacity;
        _time = time;
        _grace = grace;
        for (var i = 0; i < _free.Length; i++)
        {
            _free[i] = new Stack<IBulkBuffer>();
        }
    }

    /// <summary>Bytes kept for reuse now.</summary>
    public long Kept => Volatile.Read(ref _kept);

    /// <summary>A buffer of at least <paramref name="length"/> bytes that peers may read.</summary>
    public async ValueTask<IBulkBuffer> RentAsync(int length, CancellationToken cancellationToken)
    {
        var size = SizeFor(length);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var index = BitOperations.Log2((uint)size);
            if (_free[index].TryPop(out var buffer))
            {
                _kept -= size;
                return buffer;
            }
        }

        return await _transport.AllocateAsync(size, BulkAccess.Read, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Takes a buffer back for reuse, or releases it when the pool is full.</summary>
    public void Return(IBulkBuffer buffer)
    {
        var size = buffer.Memory.Length;
        lock (_gate)
        {
            if (!_disposed && BitOperations.IsPow2(size) && size >= 1 << SmallestClass && _kept + size <= _capacity)
            {
                _free[BitOperations.Log2((uint)size)].Push(buffer);
                _kept += size;
                return;
            }
        }

        Retire(buffer);
    }

    /// <summary>Releases a buffer that must not be reused (a peer may still be reading it) once the grace period is over.</summary>
    public void Retire(IBulkBuffer buffer)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                ITimer? timer = null;
                timer = _time.CreateTimer(
                    _ =>
                    {
                        lock (_gate)
                        {
                            _retiring.Remove(timer!);
                        }

                        timer!.Dispose();
                        buffer.Dispose();
                    },
                    null,
                    _grace,
                    Timeout.InfiniteTimeSpan);
                _retiring.Add(timer);
                return;
            }
        }

        buffer.Dispose();
    }

    public void Dispose()
    {
        List<IBulkBuffer> all = [];
        lock (_gate)
        {
            _disposed = true;

            // At shutdown the buffers still waiting out their grace are left to the transport, which unmaps all its
            // memory when it stops.
            foreach (var timer in _retiring)
            {
                timer.Dispose();
            }

            _retiring.Clear();
            foreach (var stack in _free)
            {
                all.AddRange(stack);
                stack.Clear();
            }

            _kept = 0;
        }

        foreach (var buffer in all)
        {
            buffer.Dispose();
        }
    }

    private static int SizeFor(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (length > 1 << LargestClass)
        {
            return length;
        }

        return Math.Max(1 << SmallestClass, (int)BitOperations.RoundUpToPowerOf2((uint)length));
    }
}
