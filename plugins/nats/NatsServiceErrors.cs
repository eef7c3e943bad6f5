namespace Plexus.Transport.Nats;

/// <summary>
/// How a failed request looks to a plain NATS caller: the NATS services API's error headers, with codes in the HTTP
/// style its tooling shows.
/// </summary>
internal static class NatsServiceErrors
{
    /// <summary>The error's description.</summary>
    public const string ErrorHeader = "Nats-Service-Error";

    /// <summary>The error's code.</summary>
    public const string CodeHeader = "Nats-Service-Error-Code";

    /// <summary>The code a Plexus error is reported with.</summary>
    /// <param name="code">The Plexus error code.</param>
    /// <returns>An HTTP-style status code.</returns>
    public static string Code(PlexusErrorCode code) => code switch
    {
        PlexusErrorCode.ProtocolError => "400",
        PlexusErrorCode.PayloadTooLarge => "413",
        PlexusErrorCode.Overloaded => "429",
        PlexusErrorCode.Cancelled => "499",
        PlexusErrorCode.Unavailable or PlexusErrorCode.BulkUnavailable => "503",
        PlexusErrorCode.Timeout => "504",
        _ => "500",
    };

    /// <summary>A message as one header value: NATS headers cannot carry line breaks.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The message on one line.</returns>
    public static string OneLine(string message) =>
        message.Contains('\r', StringComparison.Ordinal) || message.Contains('\n', StringComparison.Ordinal)
            ? message.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ')
            : message;
}
