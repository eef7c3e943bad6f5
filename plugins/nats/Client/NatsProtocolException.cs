namespace Plexus.Transport.Nats.Client;

/// <summary>The server sent bytes that are not valid NATS protocol; the connection cannot continue.</summary>
internal sealed class NatsProtocolException : NatsException
{
    /// <summary>Creates the error.</summary>
    /// <param name="message">What was wrong, for a person.</param>
    public NatsProtocolException(string message)
        : base(NatsErrorKind.Protocol, message)
    {
    }
}
