namespace Plexus.Transport.Nats.Client;

/// <summary>One subscription of a <see cref="NatsConnection"/>; kept across reconnects until unsubscribed.</summary>
internal sealed class NatsSubscription
{
    /// <summary>Creates a subscription record.</summary>
    /// <param name="sid">The subscription id on the wire.</param>
    /// <param name="subject">The subject, possibly with wildcards.</param>
    /// <param name="queueGroup">The queue group, or <see langword="null"/>.</param>
    /// <param name="handler">Where messages go.</param>
    public NatsSubscription(long sid, string subject, string? queueGroup, INatsMessageHandler handler)
    {
        Sid = sid;
        Subject = subject;
        QueueGroup = queueGroup;
        Handler = handler;
    }

    /// <summary>The subscription id on the wire.</summary>
    public long Sid { get; }

    /// <summary>The subject.</summary>
    public string Subject { get; }

    /// <summary>The queue group: messages go to one member of the group.</summary>
    public string? QueueGroup { get; }

    /// <summary>Where messages go.</summary>
    public INatsMessageHandler Handler { get; }

    /// <summary>
    /// Unsubscribed, but messages the server sent before it processed the UNSUB still reach the handler (so a server
    /// can refuse them instead of losing them); not restored on reconnect.
    /// </summary>
    public bool Retired { get; set; }
}
