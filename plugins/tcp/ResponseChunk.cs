namespace Plexus.Transport.Tcp;

/// <summary>
/// One run of response bytes in the writer: a whole ended message, or a piece of a large message that outgrew its
/// buffer (<paramref name="EndsMessage"/> false). <paramref name="ReturnsBuffer"/> says it is the last run in its
/// buffer, so its last frame carries the buffer back to the pool.
/// </summary>
internal record struct ResponseChunk(byte[]? Buffer, int Offset, int Length, bool ReturnsBuffer, bool EndsMessage = true);
