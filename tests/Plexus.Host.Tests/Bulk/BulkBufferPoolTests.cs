using Microsoft.Extensions.Time.Testing;
using Plexus.Hosting.Bulk;

namespace Plexus.Host.Tests.Bulk;

/// <summary>
/// The bulk path's buffer pool: buffers come back for reuse by power-of-two size up to its capacity, and a buffer that
/// leaves (beyond the capacity, or retired because a peer may still read it) stays registered for the grace period.
/// The transport here is a recording stand-in for the seam the pool allocates through, not a transfer path.
/// </summary>
public sealed class BulkBufferPoolTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_returned_buffer_is_rented_again_for_any_length_of_its_size()
    {
        var transport = new RecordingTransport();
        var time = new FakeTimeProvider();
        using var pool = new BulkBufferPool(transport, 1 << 20, time, Grace);

        var first = await pool.RentAsync(100_000, CancellationToken.None);
        pool.Return(first);
        var second = await pool.RentAsync(131_072, CancellationToken.None);

        Assert.Same(first, second);
        Assert.Equal(131_072, second.Memory.Length);
        Assert.Equal(1, transport.Registered);
    }

    [Fact]
    public async Task A_buffer_beyond_the_capacity_stays_registered_for_the_grace_period()
    {
        var transport = new RecordingTransport();
        var time = new FakeTimeProvider();
        using var pool = new BulkBufferPool(transport, 0, time, Grace);
        var buffer = await pool.RentAsync(70_000, CancellationToken.None);

        pool.Return(buffer);
        time.Advance(Grace - TimeSpan.FromSeconds(1));
        Assert.Equal(0, transport.Released);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, transport.Released);
    }

    [Fact]
    public async Task A_retired_buffer_is_never_rented_again_and_released_after_the_grace_period()
    {
        var transport = new RecordingTransport();
        var time = new FakeTimeProvider();
        using var pool = new BulkBufferPool(transport, 1 << 20, time, Grace);
        var retired = await pool.RentAsync(70_000, CancellationToken.None);

        pool.Retire(retired);
        var next = await pool.RentAsync(70_000, CancellationToken.None);
        time.Advance(Grace);

        Assert.NotSame(retired, next);
        Assert.Equal(1, transport.Released);
        Assert.Equal(0, pool.Kept);
    }

    /// <summary>Registers nothing; counts registrations and releases.</summary>
    private sealed class RecordingTransport : IBulkTransport
    {
        private int _registered;
        private int _released;

        public int Registered => Volatile.Read(ref _registered);

        public int Released => Volatile.Read(ref _released);

        public string Name => "recording";

        public bool IsAvailable => true;

        public ValueTask<IBulkRegion> RegisterAsync(Memory<byte> memory, BulkAccess access, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _registered);
            return ValueTask.FromResult<IBulkRegion>(new Region(this, memory.Length));
        }

        public ValueTask ReadAsync(BulkDescriptor remote, Memory<byte> destination, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The pool never transfers.");

        public ValueTask WriteAsync(BulkDescriptor remote, ReadOnlyMemory<byte> source, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The pool never transfers.");

        private sealed class Region(RecordingTransport owner, int length) : IBulkRegion
        {
            public BulkDescriptor Descriptor { get; } = new("recording", length, Array.Empty<byte>());

            public void Dispose() => Interlocked.Increment(ref owner._released);
        }
    }
}
