namespace Plexus.Hosting.Telemetry;

/// <summary><c>Plexus:Tracing</c>: where the request plane's spans go besides any OpenTelemetry listener.</summary>
internal sealed class TracingOptions
{
    public const string SectionName = "Plexus:Tracing";

    /// <summary>Write every finished span as one JSON line to standard error (<c>Plexus:Tracing:Console</c>).</summary>
    public bool Console { get; set; }
}
