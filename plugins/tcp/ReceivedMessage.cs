namespace Plexus.Transport.Tcp;

/// <summary>
/// What a response stream queues for its caller: a complete large message in its own <see cref="Payload"/> with the
/// credit to return once the caller is past it, or (when <see cref="Block"/> is set) the start of a run of small
/// messages at <see cref="Offset"/> in that block, each of which carries its own credit (its length + the frame charge).
/// </summary>
internal readonly record struct ReceivedMessage(PooledPayload Payload, int Credit, MessageBlock? Block, int Offset);
