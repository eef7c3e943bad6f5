using System.Collections.Concurrent;

namespace Plexus.Transport.Quic.Connections;

/// <summary>
/// Pinned buffers that hold a stream's outgoing bytes until the peer acknowledges them: ngtcp2 keeps pointers to
/// sent data for retransmission instead of copying it, so the memory must neither move nor be reused before then.
/// </summary>
internal static class SendChunks
{
    public const int Size = 32 * 1024;

    // 64 MiB of idle chunks at most; beyond that they go back to the GC.
    private const int MaxIdle = 2048;

    private static readonly ConcurrentQueue<byte[]> Idle = new();
    private static int _idleCount;

    public static byte[] Rent()
    {
        if (Idle.TryDequeue(out var chunk))
        {
            Interlocked.Decrement(ref _idleCount);
            return chunk;
        }

        return GC.AllocateUninitializedArray<byte>(Size, pinned: true);
    }

    public static void Return(byte[] chunk)
    {
        if (Interlocked.Increment(ref _idleCount) <= MaxIdle)
        {
            Idle.Enqueue(chunk);
        }
        else
        {
            Interlocked.Decrement(ref _idleCount);
        }
    }
}
