namespace Plexus;

/// <summary>A typed request-plane error. <see cref="Code"/> says what kind; the message says what to do.</summary>
public class PlexusException : Exception
{
    /// <summary>Creates an error.</summary>
    /// <param name="code">What kind of error.</param>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public PlexusException(PlexusErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>What kind of error.</summary>
    public PlexusErrorCode Code { get; }

    /// <summary>
    /// Whether the request may be sent again to another instance: only when the failure happened
    /// before the server could have started work on it.
    /// </summary>
    public bool BeforeFirstByte { get; init; }

    /// <summary>An error for an unreachable instance or endpoint.</summary>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="inner">The cause, if any.</param>
    /// <returns>The error.</returns>
    public static PlexusException Unavailable(string message, Exception? inner = null) => new(PlexusErrorCode.Unavailable, message, inner);

    /// <summary>An error for a broken wire protocol or unreadable frame.</summary>
    /// <param name="message">What was wrong.</param>
    /// <returns>The error.</returns>
    public static PlexusException Protocol(string message) => new(PlexusErrorCode.ProtocolError, message);

    /// <summary>An error for a size over a configured limit.</summary>
    /// <param name="what">What was too large, such as "request payload".</param>
    /// <param name="size">Its size in bytes.</param>
    /// <param name="limit">The limit in bytes.</param>
    /// <param name="setting">The configuration key that sets the limit.</param>
    /// <returns>The error.</returns>
    public static PlexusException TooLarge(string what, long size, long limit, string setting) =>
        new(PlexusErrorCode.PayloadTooLarge, $"The {what} is {size} bytes, over the limit of {limit} bytes; send less or raise {setting}.");

    /// <inheritdoc />
    public override string ToString() => $"{Code}: {base.ToString()}";
}
