using System.Buffers;

namespace Plexus.Transport.Nats.Client;

/// <summary>A delivered message, as slices of the read buffer (valid only while its handler runs).</summary>
/// <param name="Subscription">The subscription it was delivered for.</param>
/// <param name="Subject">The subject it was published to.</param>
/// <param name="ReplyTo">Its reply subject; empty when none.</param>
/// <param name="Headers">Its header block; empty for a message without headers.</param>
/// <param name="Payload">Its payload.</param>
internal readonly record struct NatsMessage(
    NatsSubscription Subscription,
    ReadOnlySequence<byte> Subject,
    ReadOnlySequence<byte> ReplyTo,
    ReadOnlySequence<byte> Headers,
    ReadOnlySequence<byte> Payload)
{
    /// <summary>Whether the message has a header block.</summary>
    public bool HasHeaders => !Headers.IsEmpty;
}
