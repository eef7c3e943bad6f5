namespace Plexus.Transport.Tcp;

/// <summary>A complete response message waiting for the caller, with the credit to return once the caller is past it.</summary>
internal readonly record struct ReceivedMessage(PooledPayload Payload, int Credit);
