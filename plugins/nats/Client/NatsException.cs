namespace Plexus.Transport.Nats.Client;

/// <summary>A failure of the NATS client; <see cref="Kind"/> says what kind, the message says what to do.</summary>
internal class NatsException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="kind">What kind of failure.</param>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public NatsException(NatsErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What kind of failure.</summary>
    public NatsErrorKind Kind { get; }
}
