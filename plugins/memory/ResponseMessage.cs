using System.Buffers;

namespace Plexus.Transport.Memory;

/// <summary>
/// One response message on its way from handler to client: a rented array and how much of it is the message.
/// An empty message has no array, so empty messages cost nothing.
/// </summary>
/// <param name="Buffer">The rented array, or <see langword="null"/> for an empty message.</param>
/// <param name="Length">The message length.</param>
internal readonly record struct ResponseMessage(byte[]? Buffer, int Length)
{
    /// <summary>The message as the client sees it; a view of the rented array, not a copy.</summary>
    /// <returns>The message bytes.</returns>
    public ReadOnlySequence<byte> AsSequence() =>
        Buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(Buffer, 0, Length);

    /// <summary>Gives the array back to the pool it came from. Call once per message.</summary>
    /// <param name="pool">The pool the array was rented from.</param>
    public void ReturnTo(ArrayPool<byte> pool)
    {
        if (Buffer is not null)
        {
            pool.Return(Buffer);
        }
    }
}
