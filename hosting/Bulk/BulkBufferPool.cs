using System.Numerics;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// Registered buffers of the bulk transport, reused by power-of-two size so that a steady flow of large payloads
/// neither allocates nor registers memory per payload. At most <c>Plexus:Bulk:PoolBytes</c> is kept; a buffer beyond
/// that, or larger than 1 GiB, is released when it comes back.
/// </summary>
internal sealed class BulkBufferPool : IDisposable
{
    private const int SmallestClass = 16;
    private const int LargestClass = 30;

    private readonly IBulkTransport _transport;
    private readonly long _capacity;
    private readonly Stack<IBulkBuffer>[] _free = new Stack<IBulkBuffer>[LargestClass + 1];
    private readonly Lock _gate = new();
    private long _kept;
    private bool _disposed;

    public BulkBufferPool(IBulkTransport transport, long capacity)
    {
        _transport = transport;
        _capacity = capacity;
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

        buffer.Dispose();
    }

    public void Dispose()
    {
        List<IBulkBuffer> all = [];
        lock (_gate)
        {
            _disposed = true;
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
