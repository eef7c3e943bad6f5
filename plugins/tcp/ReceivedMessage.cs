using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// A complete response message waiting for the caller, with the credit to return once the caller is past it. A small
/// message lives in a shared <see cref="MessageBlock"/> (at <see cref="Offset"/>, <see cref="Length"/> bytes); any
/// other has its own <see cref="Payload"/>.
/// </summary>
internal readonly record struct ReceivedMessage(PooledPayload Payload, MessageBlock? Block, int Offset, int Length, int Credit)
{
    /// <summary>The message's bytes.</summary>
    public ReadOnlySequence<byte> ToSequence() =>
        Block is null ? Payload.ToSequence() : new ReadOnlySequence<byte>(Block.Array, Offset, Length);
}
