using System.Buffers;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// An array pool that never hands an array out twice and counts what it hands out, so that a test sees every buffer a
/// connection asks for (the shared pool would hide a trade of one buffer for another by giving the first one back).
/// </summary>
internal sealed class CountingArrayPool : ArrayPool<byte>
{
    private int _rented;

    /// <summary>Arrays handed out so far.</summary>
    public int Rented => Volatile.Read(ref _rented);

    public override byte[] Rent(int minimumLength)
    {
        Interlocked.Increment(ref _rented);
        return new byte[minimumLength];
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
    }
}
