namespace Plexus;

/// <summary>How one call is made.</summary>
/// <param name="Headers">Request headers; the client adds the request id, the deadline and trace context.</param>
/// <param name="Timeout">How long the whole call may take, first message to last; null uses <c>Plexus:RequestPlane:DefaultTimeout</c>.</param>
/// <param name="Instance">Send to this instance only, whatever the configured router strategy.</param>
public sealed record CallOptions(
    IReadOnlyDictionary<string, string>? Headers = null,
    TimeSpan? Timeout = null,
    InstanceId? Instance = null)
{
    /// <summary>No headers, the configured timeout, any instance.</summary>
    public static CallOptions Default { get; } = new();
}
