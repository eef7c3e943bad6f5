using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The shared array pool for buffers up to 1 MiB; larger ones are allocated when asked for and left to the garbage
/// collector when returned. The shared pool keeps a returned array per size and thread until a gen-2 collection
/// trims it, so after a few 100 MiB messages it would hold 64 and 128 MiB arrays on every thread that returned one.
/// </summary>
internal sealed class BoundedArrayPool : ArrayPool<byte>
{
    /// <summary>The largest array that goes back to the shared pool.</summary>
    public const int MaximumPooledLength = 1024 * 1024;

    private BoundedArrayPool()
    {
    }

    /// <summary>The one instance.</summary>
    public static BoundedArrayPool Instance { get; } = new();

    /// <inheritdoc />
    public override byte[] Rent(int minimumLength) =>
        minimumLength <= MaximumPooledLength ? Shared.Rent(minimumLength) : GC.AllocateUninitializedArray<byte>(minimumLength);

    /// <inheritdoc />
    public override void Return(byte[] array, bool clearArray = false)
    {
        if (array.Length <= MaximumPooledLength)
        {
            Shared.Return(array, clearArray);
        }
    }
}
