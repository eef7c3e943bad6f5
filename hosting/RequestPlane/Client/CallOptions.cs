namespace Plexus.Hosting.RequestPlane.Client;

/// <summary>How one call is made.</summary>
/// <param name="Headers">Request headers; the router adds trace context.</param>
/// <param name="Timeout">How long the whole call may take; falls back to <c>Plexus:RequestPlane:DefaultTimeout</c>.</param>
/// <param name="Instance">Send to this instance only, whatever the configured strategy.</param>
internal sealed record CallOptions(
    IReadOnlyDictionary<string, string>? Headers = null,
    TimeSpan? Timeout = null,
    InstanceId? Instance = null)
{
    public static CallOptions Default { get; } = new();
}
