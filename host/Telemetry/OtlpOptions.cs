namespace Plexus.Host.Telemetry;

/// <summary><c>Plexus:Telemetry:Otlp</c>: export the request plane's spans and metrics with the OpenTelemetry protocol.</summary>
internal sealed class OtlpOptions
{
    public const string SectionName = "Plexus:Telemetry:Otlp";

    /// <summary>The collector's base address, such as <c>http://127.0.0.1:4318</c>; unset turns export off.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>http/protobuf</c> (port 4318 by convention) or <c>grpc</c> (port 4317).</summary>
    public string Protocol { get; set; } = "http/protobuf";

    /// <summary>How often metrics are exported.</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    public string ServiceName { get; set; } = "plexus";
}
