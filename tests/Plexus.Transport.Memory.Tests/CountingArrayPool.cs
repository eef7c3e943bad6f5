using System.Buffers;
using System.Collections.Concurrent;

namespace Plexus.Transport.Memory.Tests;

/// <summary>An array pool that knows which arrays are out, and notices arrays returned twice or never rented.</summary>
internal sealed class CountingArrayPool : ArrayPool<byte>
{
    private readonly ConcurrentDictionary<byte[], byte> _out = new(ReferenceEqualityComparer.Instance);
    private long _rented;
    private long _badReturns;

    public long Rented => Interlocked.Read(ref _rented);

    public int Outstanding => _out.Count;

    public long BadReturns => Interlocked.Read(ref _badReturns);

    public override byte[] Rent(int minimumLength)
    {
        // Fresh arrays every time, so that each rental is tracked on its own.
        var array = new byte[Math.Max(minimumLength, 16)];
        _out.TryAdd(array, 0);
        Interlocked.Increment(ref _rented);
        return array;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        if (!_out.TryRemove(array, out _))
        {
            Interlocked.Increment(ref _badReturns);
        }
    }
}
