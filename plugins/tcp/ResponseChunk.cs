namespace Plexus.Transport.Tcp;

/// <summary>
/// One ended response message in the writer: where its bytes are, and whether it is the last message in its buffer
/// (its last frame then carries the buffer back to the pool).
/// </summary>
internal record struct ResponseChunk(byte[]? Buffer, int Offset, int Length, bool ReturnsBuffer);
