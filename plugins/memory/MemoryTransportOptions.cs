namespace Plexus.Transport.Memory;

/// <summary>
/// Settings of the memory transport, bound from <c>Plexus:Transports:Memory</c>. Every rule lives here so that the
/// plugin entry (configuration) and the factory (direct construction in tests) check the same things.
/// </summary>
internal sealed class MemoryTransportOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Transports:Memory";

    /// <summary>The largest request payload or response message, in bytes. Default 256 MiB.</summary>
    public long MaxPayloadBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// How many response bytes one request may hold between the handler and a slow reader before the handler's
    /// <see cref="IResponseWriter.FlushAsync"/> waits. A single message larger than this still goes through, alone.
    /// Default 4 MiB.
    /// </summary>
    public long MaxBufferedBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>How many response messages one request may hold before the handler waits. Default 1024.</summary>
    public int MaxBufferedMessages { get; set; } = 1024;

    /// <summary>
    /// How many bytes of response messages (the arrays that hold them) all requests of one client may hold between
    /// their handlers and the caller before a handler's <see cref="IResponseWriter.FlushAsync"/> waits: a caller that
    /// reads none of many streams holds this much at most. At least <see cref="MaxBufferedBytes"/>. Default 64 MiB.
    /// </summary>
    public long MaxBufferedBytesPerClient { get; set; } = 64L * 1024 * 1024;

    /// <summary>The full configuration key of <see cref="MaxPayloadBytes"/>, named in errors.</summary>
    public static string MaxPayloadBytesKey => $"{SectionName}:{nameof(MaxPayloadBytes)}";

    /// <summary>The rule for <see cref="MaxPayloadBytes"/>; a payload is copied into one array, hence the upper bound.</summary>
    public static string MaxPayloadBytesRule => $"{MaxPayloadBytesKey} must be between 1 and {Array.MaxLength} bytes.";

    /// <summary>The rule for <see cref="MaxBufferedBytes"/>.</summary>
    public static string MaxBufferedBytesRule => $"{SectionName}:{nameof(MaxBufferedBytes)} must be at least 1 byte.";

    /// <summary>The rule for <see cref="MaxBufferedMessages"/>.</summary>
    public static string MaxBufferedMessagesRule => $"{SectionName}:{nameof(MaxBufferedMessages)} must be at least 1.";

    /// <summary>The rule for <see cref="MaxBufferedBytesPerClient"/>.</summary>
    public static string MaxBufferedBytesPerClientRule =>
        $"{SectionName}:{nameof(MaxBufferedBytesPerClient)} must be at least {SectionName}:{nameof(MaxBufferedBytes)}.";

    /// <summary>Whether <see cref="MaxPayloadBytes"/> is valid.</summary>
    public bool HasValidMaxPayloadBytes => MaxPayloadBytes is > 0 && MaxPayloadBytes <= Array.MaxLength;

    /// <summary>Whether <see cref="MaxBufferedBytes"/> is valid.</summary>
    public bool HasValidMaxBufferedBytes => MaxBufferedBytes > 0;

    /// <summary>Whether <see cref="MaxBufferedMessages"/> is valid.</summary>
    public bool HasValidMaxBufferedMessages => MaxBufferedMessages > 0;

    /// <summary>Whether <see cref="MaxBufferedBytesPerClient"/> is valid.</summary>
    public bool HasValidMaxBufferedBytesPerClient => MaxBufferedBytesPerClient >= MaxBufferedBytes && MaxBufferedBytesPerClient > 0;

    /// <summary>Throws with the rule of the first invalid setting; used when the factory is built without the host.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void ThrowIfInvalid()
    {
        if (!HasValidMaxPayloadBytes)
        {
            throw new ArgumentException($"{MaxPayloadBytesRule} It is {MaxPayloadBytes}.");
        }

        if (!HasValidMaxBufferedBytes)
        {
            throw new ArgumentException($"{MaxBufferedBytesRule} It is {MaxBufferedBytes}.");
        }

        if (!HasValidMaxBufferedMessages)
        {
            throw new ArgumentException($"{MaxBufferedMessagesRule} It is {MaxBufferedMessages}.");
        }

        if (!HasValidMaxBufferedBytesPerClient)
        {
            throw new ArgumentException($"{MaxBufferedBytesPerClientRule} It is {MaxBufferedBytesPerClient}.");
        }
    }
}
