using System.Text.Json;

namespace Plexus.Bench;

/// <summary>
/// Writes a report as one JSON object with stable field names (documented in BENCHMARKS.md): the settings, the
/// environment, every raw measurement, and the figures with their ratios.
/// </summary>
internal static class BenchJson
{
    /// <summary>Bumped when a field changes meaning or goes away; new fields do not bump it.</summary>
    public const int FormatVersion = 1;

    public static void Write(BenchReport report, BenchEnvironment environment, Stream output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(output);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        var options = report.Options;
        writer.WriteStartObject();
        writer.WriteNumber("formatVersion", FormatVersion);
        writer.WriteString("transport", report.Subject);
        writer.WriteStartArray("baselines");
        foreach (var baseline in report.Baselines)
        {
            writer.WriteStringValue(baseline);
        }

        writer.WriteEndArray();

        writer.WriteStartObject("settings");
        writer.WriteNumber("durationSeconds", options.Duration.TotalSeconds);
        writer.WriteNumber("warmupSeconds", options.Warmup.TotalSeconds);
        writer.WriteStartArray("scenarios");
        foreach (var scenario in options.Scenarios)
        {
            writer.WriteStringValue(BenchNames.Of(scenario));
        }

        writer.WriteEndArray();
        writer.WriteStartArray("concurrency");
        foreach (var concurrency in options.Concurrencies)
        {
            writer.WriteNumberValue(concurrency);
        }

        writer.WriteEndArray();
        writer.WriteNumber("unaryRequestBytes", BenchSizes.UnaryRequestBytes);
        writer.WriteNumber("unaryResponseBytes", BenchSizes.UnaryResponseBytes);
        writer.WriteNumber("streamMessages", BenchSizes.StreamMessages);
        writer.WriteNumber("streamMessageBytes", BenchSizes.StreamMessageBytes);
        writer.WriteNumber("bulkBytes", BenchSizes.BulkBytes);
        if (options.Scenarios.Contains(BenchScenario.BulkPath))
        {
            writer.WriteStartArray("bulkPathBytes");
            foreach (var size in options.PayloadSizes)
            {
                writer.WriteNumberValue(size);
            }

            writer.WriteEndArray();
        }

        if (options.Scenarios.Contains(BenchScenario.Serving))
        {
            var workload = options.ServingSettings;
            writer.WriteStartObject("serving");
            WriteNumbers(writer, "streams", workload.Streams);
            WriteNumbers(writer, "connections", workload.Connections);
            writer.WriteNumber("tokens", workload.Tokens);
            writer.WriteNumber("tokenRate", workload.TokenRate);
            writer.WriteNumber("tokenBytes", workload.TokenBytes);
            writer.WriteNumber("paceUs", 1e6 / workload.TokenRate);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();

        writer.WriteStartObject("environment");
        writer.WriteString("runtime", environment.Runtime);
        writer.WriteString("os", environment.OperatingSystem);
        writer.WriteString("architecture", environment.Architecture);
        writer.WriteNumber("processorCount", environment.ProcessorCount);
        writer.WriteBoolean("serverGc", environment.ServerGc);
        writer.WriteEndObject();

        writer.WriteStartArray("measurements");
        foreach (var m in report.Measurements)
        {
            writer.WriteStartObject();
            writer.WriteString("subject", m.Subject);
            writer.WriteString("scenario", BenchNames.Of(m.Scenario));
            writer.WriteNumber("concurrency", m.Concurrency);
            writer.WriteNumber("operations", m.Operations);
            writer.WriteNumber("seconds", m.Seconds);
            writer.WriteNumber("operationsPerSecond", m.RequestsPerSecond);
            WriteNullable(writer, "p50Us", m.P50Microseconds);
            WriteNullable(writer, "p99Us", m.P99Microseconds);
            writer.WriteNumber("latencySamples", m.LatencySamples);
            writer.WriteNumber("messages", m.Messages);
            writer.WriteNumber("messagesPerSecond", m.MessagesPerSecond);
            writer.WriteNumber("bytes", m.Bytes);
            writer.WriteNumber("gigabytesPerSecond", m.GigabytesPerSecond);
            WriteNullable(writer, "cpuSeconds", m.ProcessorTime?.TotalSeconds);
            WriteNullable(writer, "cpuUsPerMiB", m.CpuMicrosecondsPerMebibyte);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("figures");
        foreach (var figure in report.Figures)
        {
            WriteFigure(writer, figure, report);
        }

        if (report.BulkPath is { } bulkPath)
        {
            foreach (var figure in bulkPath.Figures)
            {
                WriteFigure(writer, figure, report);
            }
        }

        if (report.Serving is { } servingFigures)
        {
            foreach (var figure in servingFigures.Figures)
            {
                WriteFigure(writer, figure, report);
            }
        }

        writer.WriteEndArray();
        if (report.BulkPath is { } path)
        {
            WriteBulkPath(writer, path);
        }

        if (report.Serving is { } serving)
        {
            WriteServing(writer, serving);
        }

        writer.WriteEndObject();
    }

    private static void WriteFigure(Utf8JsonWriter writer, BenchFigure figure, BenchReport report)
    {
        writer.WriteStartObject();
        writer.WriteString("key", figure.Key);
        writer.WriteString("label", figure.Label);
        // ASCII in the JSON, so that a script can compare it without caring about escapes.
        writer.WriteString("unit", figure.Unit == "µs" ? "us" : figure.Unit);
        writer.WriteBoolean("lowerIsBetter", figure.LowerIsBetter);
        writer.WriteStartObject("values");
        foreach (var (subject, value) in figure.Values)
        {
            writer.WriteNumber(subject, value);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("ratios");
        var of = figure.Subject ?? report.Subject;
        foreach (var baseline in figure.Against ?? report.Baselines)
        {
            WriteNullable(writer, baseline, figure.Ratio(of, baseline));
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The bulk-path scenario in full: per size, both node runs, the bulk transfers counted, and ucx_perftest.</summary>
    private static void WriteBulkPath(Utf8JsonWriter writer, BulkPathReport path)
    {
        writer.WriteStartObject("bulkPath");
        writer.WriteString("transport", path.Transport);
        writer.WriteString("bulkTransport", "ucx");
        if (path.UcxTls is { } tls)
        {
            writer.WriteString("ucxTls", tls);
        }
        else
        {
            writer.WriteNull("ucxTls");
        }

        writer.WriteStartArray("sizes");
        foreach (var point in path.Points)
        {
            writer.WriteStartObject();
            writer.WriteNumber("payloadBytes", point.PayloadBytes);
            writer.WritePropertyName("bulk");
            WriteMeasurement(writer, point.Bulk);
            writer.WriteNumber("bulkTransfers", point.BulkTransfers);
            writer.WritePropertyName("inline");
            if (point.Inline is { } inline)
            {
                WriteMeasurement(writer, inline);
            }
            else
            {
                writer.WriteNullValue();
            }

            if (point.InlineUnavailable is { } why)
            {
                writer.WriteString("inlineUnavailable", why);
            }
            else
            {
                writer.WriteNull("inlineUnavailable");
            }

            writer.WriteStartObject("ucxPerftest");
            writer.WriteNumber("iterations", point.PerftestIterations);
            writer.WriteNumber("getGigabytesPerSecond", point.GetGigabytesPerSecond);
            writer.WriteNumber("putGigabytesPerSecond", point.PutGigabytesPerSecond);
            writer.WriteNumber("getWithErrorHandlingGigabytesPerSecond", point.GetWithErrorHandlingGigabytesPerSecond);
            WriteNullable(writer, "getLatencyUs", point.Get.LatencyMicroseconds);
            WriteNullable(writer, "putLatencyUs", point.Put.LatencyMicroseconds);
            writer.WriteEndObject();
            writer.WriteStartObject("ratios");
            WriteNullable(writer, "bulkToInline", point.BulkToInline);
            WriteNullable(writer, "bulkToPerftestGet", point.BulkToGet);
            WriteNullable(writer, "bulkToPerftestPut", point.BulkToPut);
            WriteNullable(writer, "bulkToPerftestGetWithErrorHandling", point.BulkToGetWithErrorHandling);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The serving scenario in full: every measurement with its latencies, CPU and the resources read at each step.</summary>
    private static void WriteServing(Utf8JsonWriter writer, ServingReport serving)
    {
        writer.WriteStartObject("serving");
        writer.WriteString("reference", InProcessServing.SubjectName);
        writer.WriteStartArray("unsupported");
        foreach (var (subject, reason) in serving.Unsupported)
        {
            writer.WriteStartObject();
            writer.WriteString("subject", subject);
            writer.WriteString("reason", reason);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("notes");
        foreach (var note in serving.Notes)
        {
            writer.WriteStringValue(note);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("measurements");
        foreach (var m in serving.Measurements)
        {
            var plan = m.Plan;
            writer.WriteStartObject();
            writer.WriteString("subject", m.Subject);
            writer.WriteNumber("streams", plan.Streams);
            if (m.HasConnections)
            {
                writer.WriteNumber("connections", plan.Connections);
            }
            else
            {
                writer.WriteNull("connections");
            }

            writer.WriteNumber("tokens", plan.Tokens);
            writer.WriteNumber("tokenRate", plan.TokenRate);
            writer.WriteNumber("tokenBytes", plan.TokenBytes);
            writer.WriteNumber("served", m.Served);
            writer.WriteNumber("failed", m.Failed);
            if (m.FirstError is { } error)
            {
                writer.WriteString("firstError", error);
            }
            else
            {
                writer.WriteNull("firstError");
            }

            writer.WriteNumber("openWhenIdle", m.OpenWhenIdle);
            writer.WriteNumber("tokensReceived", m.TokensReceived);
            writer.WriteNumber("openSeconds", m.OpenElapsed.TotalSeconds);
            writer.WriteNumber("serveSeconds", m.ServeElapsed.TotalSeconds);
            writer.WriteNumber("tokensPerSecond", m.TokensPerSecond);
            var latencies = m.Latencies;
            var added = serving.AddedTtft(m);
            WriteNullable(writer, "ttftP50Us", latencies?.TtftP50Microseconds);
            WriteNullable(writer, "ttftP99Us", latencies?.TtftP99Microseconds);
            WriteNullable(writer, "ttftAddedP50Us", added.P50);
            WriteNullable(writer, "ttftAddedP99Us", added.P99);
            writer.WriteNumber("itlGaps", latencies?.GapSamples ?? 0);
            WriteNullable(writer, "itlAddedP50Us", latencies?.AddedItlP50Microseconds);
            WriteNullable(writer, "itlAddedP99Us", latencies?.AddedItlP99Microseconds);
            WriteNullable(writer, "itlAddedMaxUs", latencies?.AddedItlMaxMicroseconds);
            writer.WriteNumber("cpuOpenSeconds", m.OpenCpu.TotalSeconds);
            writer.WriteNumber("cpuServeSeconds", m.ServeCpu.TotalSeconds);
            WriteNullable(writer, "cpuUsPerToken", m.CpuMicrosecondsPerToken);
            writer.WriteNumber("servedTokens", m.ServedTokens);
            writer.WriteNumber("serveAllocatedBytes", m.ServeAllocatedBytes);
            WriteNullable(writer, "allocatedBytesPerToken", m.AllocatedBytesPerToken);
            WriteNullable(writer, "managedBytesPerStream", m.ManagedBytesPerStream);
            WriteNullable(writer, "workingSetBytesPerStream", m.WorkingSetBytesPerStream);
            WriteNullable(writer, "managedBytesPerConnection", m.ManagedBytesPerConnection);
            WriteNullable(writer, "workingSetBytesPerConnection", m.WorkingSetBytesPerConnection);
            WriteResources(writer, "bare", m.Bare);
            WriteResources(writer, "connected", m.Connected);
            WriteResources(writer, "idle", m.Idle);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteResources(Utf8JsonWriter writer, string name, ServingResources resources)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("managedBytes", resources.ManagedBytes);
        writer.WriteNumber("workingSetBytes", resources.WorkingSetBytes);
        writer.WriteNumber("threads", resources.Threads);
        writer.WriteNumber("timers", resources.Timers);
        writer.WriteEndObject();
    }

    private static void WriteNumbers(Utf8JsonWriter writer, string name, IReadOnlyList<int> numbers)
    {
        writer.WriteStartArray(name);
        foreach (var n in numbers)
        {
            writer.WriteNumberValue(n);
        }

        writer.WriteEndArray();
    }

    private static void WriteMeasurement(Utf8JsonWriter writer, BenchMeasurement m)
    {
        writer.WriteStartObject();
        writer.WriteString("subject", m.Subject);
        writer.WriteNumber("operations", m.Operations);
        writer.WriteNumber("seconds", m.Seconds);
        writer.WriteNumber("bytes", m.Bytes);
        writer.WriteNumber("gigabytesPerSecond", m.GigabytesPerSecond);
        WriteNullable(writer, "cpuSeconds", m.ProcessorTime?.TotalSeconds);
        WriteNullable(writer, "cpuUsPerMiB", m.CpuMicrosecondsPerMebibyte);
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
