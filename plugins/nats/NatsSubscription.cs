using System.Buffers;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// A subscription of NATS.Client.Core whose messages go straight to an <see cref="INatsMessageReceiver"/> on the read
/// loop, as raw header and payload buffers: no per-message channel hop, no deserialisation, no header dictionary. The
/// transport reads its own frame headers from the bytes. The connection restores it after a reconnect like any other.
/// </summary>
internal sealed class NatsSubscription : NatsSubBase
{
    private readonly INatsMessageReceiver _receiver;

    /// <summary>Creates the subscription; <see cref="NatsConnection.AddSubAsync"/> sends it.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="subject">The subject, wildcards allowed.</param>
    /// <param name="queueGroup">The queue group, or <see langword="null"/>.</param>
    /// <param name="receiver">Where messages go.</param>
    public NatsSubscription(NatsConnection connection, string subject, string? queueGroup, INatsMessageReceiver receiver)
        : base(connection, connection.SubscriptionManager, subject, queueGroup, opts: null)
    {
        _receiver = receiver;
    }

    /// <inheritdoc />
    protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer) =>
        _receiver.ReceiveAsync(subject, replyTo, headersBuffer ?? default, payloadBuffer);

    /// <inheritdoc />
    protected override void TryComplete()
    {
        // Nothing is buffered between the read loop and the receiver.
    }
}
