namespace Plexus.Transport.Nats.Client;

/// <summary>Receives the messages of a subscription, on the connection's read loop: handle quickly, never block.</summary>
internal interface INatsMessageHandler
{
    /// <summary>Handles one message. Its bytes are valid only during the call; copy what must outlive it.</summary>
    /// <param name="message">The message.</param>
    void OnMessage(in NatsMessage message);
}
