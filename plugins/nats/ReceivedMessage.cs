using System.Buffers;

namespace Plexus.Transport.Nats;

/// <summary>
/// One response message on the requester's side: a rented array (none when empty) and its length; or, with a
/// <see cref="Count"/>, the checked payload of a <c>msgs</c> frame, whose messages the reader takes one by one.
/// </summary>
/// <param name="Buffer">The rented array, or <see langword="null"/> for an empty message.</param>
/// <param name="Length">The message length (the frame's payload length for a packed frame).</param>
/// <param name="Credited">Whether its credit was already granted (chunked messages are credited as their chunks arrive).</param>
/// <param name="Count">The messages of a packed frame; 0 for one message.</param>
internal readonly record struct ReceivedMessage(byte[]? Buffer, int Length, bool Credited, int Count = 0)
{
    /// <summary>The message as the reader sees it: a view of the rented array.</summary>
    /// <returns>The bytes.</returns>
    public ReadOnlySequence<byte> AsSequence() =>
        Buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(Buffer, 0, Length);

    /// <summary>Gives the array back to its pool.</summary>
    /// <param name="pool">The pool.</param>
    public void ReturnTo(ArrayPool<byte> pool)
    {
        if (Buffer is not null)
        {
            pool.Return(Buffer);
        }
    }
}
