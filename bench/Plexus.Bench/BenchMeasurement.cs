namespace Plexus.Bench;

/// <summary>One subject's result for one scenario (and, for unary, one concurrency).</summary>
/// <param name="Subject">The subject's name.</param>
/// <param name="Scenario">The scenario.</param>
/// <param name="Concurrency">Concurrent callers (1 for stream and bulk).</param>
/// <param name="Operations">Completed requests: unary calls, whole streams, or bulk transfers.</param>
/// <param name="Elapsed">From the first request to the end of the last one.</param>
/// <param name="Messages">Stream messages received (stream only; otherwise 0).</param>
/// <param name="Bytes">Payload bytes the server acknowledged (bulk only; otherwise 0).</param>
/// <param name="P50Microseconds">Median call latency (unary at concurrency 1 only).</param>
/// <param name="P99Microseconds">99th percentile call latency (unary at concurrency 1 only).</param>
/// <param name="LatencySamples">How many latencies the percentiles were read from.</param>
/// <param name="ProcessorTime">
/// CPU time of the whole process over the measured interval (every thread: the subject's client and server, the
/// harness, the garbage collector); null when not measured.
/// </param>
internal sealed record BenchMeasurement(
    string Subject,
    BenchScenario Scenario,
    int Concurrency,
    long Operations,
    TimeSpan Elapsed,
    long Messages,
    long Bytes,
    double? P50Microseconds,
    double? P99Microseconds,
    long LatencySamples,
    TimeSpan? ProcessorTime = null)
{
    public double Seconds => Elapsed.TotalSeconds;

    public double RequestsPerSecond => Seconds > 0 ? Operations / Seconds : 0;

    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    /// <summary>Decimal gigabytes (10^9 bytes) per second, as network figures are quoted.</summary>
    public double GigabytesPerSecond => Seconds > 0 ? Bytes / Seconds / 1e9 : 0;

    /// <summary>Microseconds of process CPU time per MiB (2^20 bytes) of payload: bulk only, null elsewhere or when the CPU time was not measured.</summary>
    public double? CpuMicrosecondsPerMebibyte => Bytes > 0 && ProcessorTime is { } cpu ? cpu.TotalMicroseconds / ((double)Bytes / (1 << 20)) : null;
}
