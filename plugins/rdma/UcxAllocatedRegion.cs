using System.Buffers;
using Plexus.Transport.Rdma.Workers;

namespace Plexus.Transport.Rdma;

/// <summary>
/// A region in memory UCX allocated and owns (<see cref="UcxBulkTransport.AllocateAsync"/>): this side reads and
/// writes it through <see cref="Memory"/>, peers through <see cref="Descriptor"/>. Disposing unmaps it; the memory is
/// gone after that, so <see cref="Memory"/> must not be used any more.
/// </summary>
internal sealed unsafe class UcxAllocatedRegion : MemoryManager<byte>, IBulkBuffer
{
    private readonly UcxWorker _worker;
    private readonly nint _handle;
    private readonly nint _address;
    private readonly int _length;
    private int _disposed;

    public UcxAllocatedRegion(UcxWorker worker, nint handle, nint address, int length, BulkDescriptor descriptor)
    {
        _worker = worker;
        _handle = handle;
        _address = address;
        _length = length;
        Descriptor = descriptor;
    }

    public BulkDescriptor Descriptor { get; }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return new Span<byte>((void*)_address, _length);
    }

    // UCX's memory never moves: pinning is a no-op.
    public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)_address + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _worker.Post(w =>
            {
                w.Unmap(_handle);
                return 0;
            }).GetAwaiter().GetResult();
        }
        catch (ObjectDisposedException)
        {
            // The worker has stopped; its context, with every mapping, is gone.
        }
    }
}
