namespace Plexus.Transport.Nats.Client;

/// <summary>A reply received by <see cref="NatsConnection.RequestAsync"/>, copied out of the read buffer.</summary>
/// <param name="Status">The status code of its header block, or 0.</param>
/// <param name="Headers">Its header block, or empty.</param>
/// <param name="Payload">Its payload.</param>
internal sealed record NatsReply(int Status, byte[] Headers, byte[] Payload);
