using System.Diagnostics;
using System.Diagnostics.Metrics;
using Plexus.Hosting.Plugins;

namespace Plexus.Hosting.Telemetry;

/// <summary>
/// The request plane's meters. They are ordinary <see cref="System.Diagnostics.Metrics"/> instruments, so
/// <c>dotnet-counters</c>, OpenTelemetry and the host's own <c>/metrics</c> all see the same numbers.
/// Every instrument is tagged with <c>endpoint</c>, <c>transport</c> and <c>side</c> (<c>client</c> or <c>server</c>).
/// </summary>
internal sealed class RequestPlaneMetrics
{
    public const string MeterName = "Plexus.RequestPlane";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly UpDownCounter<long> _inFlight;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _firstResponse;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _bytesReceived;

    public RequestPlaneMetrics(IMeterFactory meters, PluginCatalog plugins)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("plexus.plugins", () => PluginMeasurements(plugins), "{plugin}", "Plugins found, by name and load result (1 per plugin).");
        _requests = meter.CreateCounter<long>("plexus.requests", "{request}", "Requests started.");
        _errors = meter.CreateCounter<long>("plexus.request.errors", "{request}", "Requests that ended with a typed error, by code.");
        _inFlight = meter.CreateUpDownCounter<long>("plexus.requests.in_flight", "{request}", "Requests started and not yet ended.");
        _duration = meter.CreateHistogram<double>("plexus.request.duration", "s", "From the start of a request to the end of its response stream.");
        _firstResponse = meter.CreateHistogram<double>("plexus.request.time_to_first_response", "s", "From the start of a request to its first response message.");
        _bytesSent = meter.CreateCounter<long>("plexus.payload.sent", "By", "Payload bytes sent: request payloads by clients, response messages by servers.");
        _bytesReceived = meter.CreateCounter<long>("plexus.payload.received", "By", "Payload bytes received: response messages by clients, request payloads by servers.");
    }

    private static IEnumerable<Measurement<int>> PluginMeasurements(PluginCatalog plugins)
    {
        foreach (var plugin in plugins.Plugins)
        {
            yield return new Measurement<int>(1, new KeyValuePair<string, object?>("plugin", plugin.Name), new KeyValuePair<string, object?>("status", plugin.Status.ToString().ToLowerInvariant()));
        }
    }

    public static TagList Tags(string endpoint, string transport, string side) =>
        new() { { "endpoint", endpoint }, { "transport", transport }, { "side", side } };

    public void Started(in TagList tags, long payloadBytes, bool server)
    {
        _requests.Add(1, tags);
        _inFlight.Add(1, tags);
        (server ? _bytesReceived : _bytesSent).Add(payloadBytes, tags);
    }

    public void FirstResponse(in TagList tags, TimeSpan elapsed) => _firstResponse.Record(elapsed.TotalSeconds, tags);

    public void Message(in TagList tags, long bytes, bool server) => (server ? _bytesSent : _bytesReceived).Add(bytes, tags);

    public void Ended(in TagList tags, TimeSpan elapsed, PlexusErrorCode? error)
    {
        _inFlight.Add(-1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
        if (error is PlexusErrorCode code)
        {
            var withCode = tags;
            withCode.Add("code", CodeName(code));
            _errors.Add(1, withCode);
        }
    }

    /// <summary>The code as a label value, without an allocation per error.</summary>
    public static string CodeName(PlexusErrorCode code) => code switch
    {
        PlexusErrorCode.Unavailable => "unavailable",
        PlexusErrorCode.Overloaded => "overloaded",
        PlexusErrorCode.Timeout => "timeout",
        PlexusErrorCode.Cancelled => "cancelled",
        PlexusErrorCode.HandlerError => "handler_error",
        PlexusErrorCode.ProtocolError => "protocol_error",
        PlexusErrorCode.PayloadTooLarge => "payload_too_large",
        _ => "unknown",
    };
}
