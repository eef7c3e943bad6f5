using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Plexus.Hosting.Composition;

namespace Plexus.Host.Telemetry;

/// <summary>
/// Turns on OpenTelemetry export when <c>Plexus:Telemetry:Otlp:Endpoint</c> is set: the spans of the
/// <c>Plexus.RequestPlane</c> activity source and the metrics of every <c>Plexus.*</c> meter (the request plane's and
/// the transports'), to an OTLP collector. <c>/metrics</c> is unaffected: it reads the same instruments on its own.
/// </summary>
internal static class OtlpServiceCollectionExtensions
{
    public static IServiceCollection AddPlexusOtlp(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new OtlpOptions();
        configuration.GetSection(OtlpOptions.SectionName).Bind(options);
        if (string.IsNullOrWhiteSpace(options.Endpoint))
        {
            return services;
        }

        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new PlexusConfigurationException($"{OtlpOptions.SectionName}:Endpoint is '{options.Endpoint}'; set it to the collector's base address, such as http://127.0.0.1:4318.");
        }

        var protocol = options.Protocol.ToLowerInvariant() switch
        {
            "http/protobuf" or "http" => OtlpExportProtocol.HttpProtobuf,
            "grpc" => OtlpExportProtocol.Grpc,
            _ => throw new PlexusConfigurationException($"{OtlpOptions.SectionName}:Protocol is '{options.Protocol}'; set it to http/protobuf or grpc."),
        };

        if (options.MetricsInterval < TimeSpan.FromMilliseconds(100))
        {
            throw new PlexusConfigurationException($"{OtlpOptions.SectionName}:MetricsInterval is {options.MetricsInterval}; it must be at least 100ms, such as 10s.");
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName, serviceInstanceId: configuration["Plexus:NodeId"]))
            .WithTracing(tracing => tracing.AddSource(Plexus.Hosting.Telemetry.PlexusActivity.SourceName))
            .WithMetrics(metrics => metrics.AddMeter("Plexus.*"))
            .UseOtlpExporter(protocol, endpoint);
        services.Configure<MetricReaderOptions>(reader => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.MetricsInterval.TotalMilliseconds);
        return services;
    }
}
