using System.Buffers;

namespace Plexus.Transport.Nats;

/// <summary>Takes the messages of one subscription on the connection's read loop, from the buffers they arrived in.</summary>
internal interface INatsMessageReceiver
{
    /// <summary>
    /// Handles one message. The buffers are valid only until the first await: whatever is kept must be copied before.
    /// The read loop waits for the returned task, so a receiver that must send a reply while the outbox is full holds
    /// back reading from nats-server instead of piling replies up in memory.
    /// </summary>
    /// <param name="subject">The subject the message was published to.</param>
    /// <param name="replyTo">Its reply subject, or <see langword="null"/>.</param>
    /// <param name="headers">Its header block (<c>NATS/1.0…</c>), empty when it has none.</param>
    /// <param name="payload">Its payload.</param>
    /// <returns>A task that completes once the message was handled.</returns>
    ValueTask ReceiveAsync(string subject, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload);
}
