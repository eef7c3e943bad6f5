namespace Plexus;

/// <summary>What went wrong with a request. Travels on the wire, so values never change meaning.</summary>
public enum PlexusErrorCode
{
    /// <summary>No instance could be reached, the endpoint is not served there, or the peer went away.</summary>
    Unavailable = 1,

    /// <summary>Every candidate instance is busy; try again later.</summary>
    Overloaded = 2,

    /// <summary>The request's deadline passed.</summary>
    Timeout = 3,

    /// <summary>The request was cancelled.</summary>
    Cancelled = 4,

    /// <summary>The endpoint's handler failed; the message is the handler's.</summary>
    HandlerError = 5,

    /// <summary>A peer broke the wire protocol or the codec could not read a frame.</summary>
    ProtocolError = 6,

    /// <summary>A payload, header or frame exceeded a configured limit.</summary>
    PayloadTooLarge = 7,

    /// <summary>
    /// The receiver could not pull a payload sent by bulk transfer; nothing ran. The request plane's client sends the
    /// bytes again inline, so callers see this only from a transport driven directly.
    /// </summary>
    BulkUnavailable = 8,
}
