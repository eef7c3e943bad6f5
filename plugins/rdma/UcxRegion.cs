using System.Buffers;
using Plexus.Transport.Rdma.Workers;

namespace Plexus.Transport.Rdma;

/// <summary>
/// Memory registered with UCX: pinned for as long as the region lives, mapped for remote access, and described by a
/// descriptor peers use to read (or write) it. Disposing unmaps it on the worker's thread, then unpins it.
/// </summary>
internal sealed class UcxRegion(UcxWorker worker, nint memoryHandle, MemoryHandle pin, BulkDescriptor descriptor) : IBulkRegion
{
    private int _disposed;

    public BulkDescriptor Descriptor { get; } = descriptor;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            worker.Post(w =>
            {
                w.Unmap(memoryHandle);
                return 0;
            }).GetAwaiter().GetResult();
        }
        catch (ObjectDisposedException)
        {
            // The worker has stopped and its context, with every mapping, is gone.
        }
        finally
        {
            pin.Dispose();
        }
    }
}
