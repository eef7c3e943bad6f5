namespace Plexus.Transport.Tcp;

/// <summary>
/// One run of response bytes in the writer: a whole ended message, or a piece of a large message that outgrew its
/// buffer (<paramref name="EndsMessage"/> false; the last piece, which ends it, has <paramref name="Continues"/> set).
/// <paramref name="ReturnsBuffer"/> says it is the last run in its buffer, so its last frame carries the buffer back to
/// the pool.
/// </summary>
internal record struct ResponseChunk(byte[]? Buffer, int Offset, int Length, bool ReturnsBuffer, bool EndsMessage = true, bool Continues = false)
{
    /// <summary>Whether the chunk is a whole message, with its length in the slot before it: only such a chunk may be packed.</summary>
    public readonly bool IsWhole => EndsMessage && !Continues;
}
