using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Plexus.Hosting.Telemetry;

/// <summary>
/// When <c>Plexus:Tracing:Console</c> is on, records the request plane's spans and writes each finished one as a
/// JSON line to standard error: enough to follow a trace across processes without a collector.
/// </summary>
internal sealed class ConsoleSpanWriter(IOptions<TracingOptions> options) : IHostedService, IDisposable
{
    private static readonly Lock Gate = new();
    private ActivityListener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Console)
        {
            return Task.CompletedTask;
        }

        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == PlexusActivity.SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Write,
        };
        ActivitySource.AddActivityListener(_listener);
        return Task.CompletedTask;
    }

    private static void Write(Activity activity)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("span", activity.OperationName);
            json.WriteString("kind", activity.Kind.ToString().ToLowerInvariant());
            json.WriteString("traceId", activity.TraceId.ToHexString());
            json.WriteString("spanId", activity.SpanId.ToHexString());
            json.WriteString("parentSpanId", activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString());
            json.WriteString("start", activity.StartTimeUtc);
            json.WriteNumber("durationMs", activity.Duration.TotalMilliseconds);
            json.WriteString("status", activity.Status.ToString().ToLowerInvariant());
            foreach (var (key, value) in activity.Tags)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        }

        var line = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        lock (Gate)
        {
            System.Console.Error.WriteLine(line);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener?.Dispose();
}
