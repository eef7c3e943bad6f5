using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Plexus.Bench;

/// <summary>
/// Runs the measurements: for each scenario, the transport under test and then each baseline, back to back, so that
/// they see the same machine in the same minute and their ratio means something.
/// </summary>
internal sealed class BenchRunner
{
    private readonly BenchOptions _options;
    private readonly IBenchProgress _progress;
    private LatencyRecorder? _recorder;

    /// <param name="options">What to measure and for how long.</param>
    /// <param name="progress">Where each measurement is reported while the run is on (standard error, so standard output stays data).</param>
    public BenchRunner(BenchOptions options, TextWriter progress)
        : this(options, new LineBenchProgress(progress))
    {
    }

    /// <param name="options">What to measure and for how long.</param>
    /// <param name="progress">Where each measurement is reported while the run is on.</param>
    public BenchRunner(BenchOptions options, IBenchProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        _options = options;
        _progress = progress;
    }

    /// <summary>How many measurements a run of <paramref name="subjects"/> subjects makes.</summary>
    public static int CountMeasurements(BenchOptions options, int subjects)
    {
        var perSubject = 0;
        foreach (var scenario in options.Scenarios)
        {
            // The bulk path measures two nodes of its own, not the subjects (BulkPathBench counts those); serving is
            // counted by ServingBench.
            perSubject += scenario switch
            {
                BenchScenario.Unary => options.Concurrencies.Count,
                BenchScenario.BulkPath or BenchScenario.Serving => 0,
                _ => 1,
            };
        }

        return perSubject * subjects;
    }

    /// <summary>How long one operation may take beyond the planned time before the measurement is declared hung.</summary>
    public TimeSpan OperationGrace => _options.Duration > TimeSpan.FromSeconds(30) ? _options.Duration : TimeSpan.FromSeconds(30);

    /// <param name="subjects">Started subjects, the transport under test first.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <exception cref="BenchFailedException">A subject failed, answered wrongly or hung.</exception>
    public async Task<IReadOnlyList<BenchMeasurement>> RunAsync(IReadOnlyList<IBenchSubject> subjects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subjects);
        var results = new List<BenchMeasurement>();
        foreach (var scenario in _options.Scenarios)
        {
            // The bulk path and serving have runners of their own (BulkPathBench, ServingBench).
            if (scenario is BenchScenario.BulkPath or BenchScenario.Serving)
            {
                continue;
            }

            if (scenario == BenchScenario.Unary)
            {
                foreach (var concurrency in _options.Concurrencies)
                {
                    foreach (var subject in subjects)
                    {
                        var label = $"unary c={concurrency.ToString(CultureInfo.InvariantCulture)}";
                        results.Add(await GuardAsync(subject, label, token => MeasureUnaryAsync(subject, concurrency, token), cancellationToken));
                    }
                }

                continue;
            }

            foreach (var subject in subjects)
            {
                results.Add(await GuardAsync(subject, BenchNames.Of(scenario), token => MeasureRepeatedAsync(subject, scenario, token), cancellationToken));
            }
        }

        return results;
    }

    private async Task<BenchMeasurement> GuardAsync(IBenchSubject subject, string label, Func<CancellationToken, Task<BenchMeasurement>> measure, CancellationToken cancellationToken)
    {
        var budget = _options.Warmup + _options.Duration + OperationGrace;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(budget);
        var what = $"{subject.Name} {label}";
        await _progress.StartedAsync(what);
        try
        {
            var measurement = await measure(limit.Token);
            await _progress.FinishedAsync(what, Describe(measurement));
            return measurement;
        }
        catch (Exception ex) when (ex is not BenchFailedException)
        {
            // Ctrl+C ends the run as cancelled, whatever the subject made of the cancellation on its way out.
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The bench was cancelled.", ex, cancellationToken);
            }

            if (limit.IsCancellationRequested)
            {
                throw new BenchFailedException($"{subject.Name} {label} did not finish within {budget.TotalSeconds:0.#}s (warm-up, duration and {OperationGrace.TotalSeconds:0}s for the last request): it hangs or is far slower than the others.", ex);
            }

            if (ex is PlexusException or IOException or SocketException or HttpRequestException or InvalidDataException)
            {
                throw new BenchFailedException($"{subject.Name} {label} failed: {ex.GetType().Name}: {ex.Message}", ex);
            }

            throw;
        }
    }

    private static string Describe(BenchMeasurement m) => m.Scenario switch
    {
        BenchScenario.Unary when m.P50Microseconds is { } p50 => string.Create(CultureInfo.InvariantCulture, $"{m.RequestsPerSecond:N0} req/s, p50 {p50:0.0} µs, p99 {m.P99Microseconds:0.0} µs ({m.Operations:N0} calls)"),
        BenchScenario.Unary => string.Create(CultureInfo.InvariantCulture, $"{m.RequestsPerSecond:N0} req/s ({m.Operations:N0} calls)"),
        BenchScenario.Stream => string.Create(CultureInfo.InvariantCulture, $"{m.MessagesPerSecond:N0} msg/s ({m.Operations:N0} streams)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{m.GigabytesPerSecond:0.00} GB/s, {m.CpuMicrosecondsPerMebibyte:N0} µs CPU per MiB ({m.Operations:N0} transfers)"),
    };

    private async Task<BenchMeasurement> MeasureUnaryAsync(IBenchSubject subject, int concurrency, CancellationToken cancellationToken)
    {
        var callers = new List<IUnaryCaller>(concurrency);
        try
        {
            for (var i = 0; i < concurrency; i++)
            {
                callers.Add(await subject.OpenUnaryAsync(cancellationToken));
            }

            if (_options.Warmup > TimeSpan.Zero)
            {
                await RunUnaryAsync(callers, _options.Warmup, null, cancellationToken);
            }

            // Latencies are recorded with one caller only: that is where p50 and p99 are reported.
            LatencyRecorder? recorder = null;
            if (concurrency == 1)
            {
                recorder = _recorder ??= new LatencyRecorder();
                recorder.Reset();
            }

            Settle();
            var cpu = Environment.CpuUsage.TotalTime;
            var (operations, elapsed) = await RunUnaryAsync(callers, _options.Duration, recorder, cancellationToken);
            cpu = Environment.CpuUsage.TotalTime - cpu;
            double? p50 = null;
            double? p99 = null;
            if (recorder is { Count: > 0 })
            {
                var percentiles = recorder.PercentilesMicroseconds(50, 99);
                (p50, p99) = (percentiles[0], percentiles[1]);
            }

            return new BenchMeasurement(subject.Name, BenchScenario.Unary, concurrency, operations, elapsed, 0, 0, p50, p99, recorder?.Retained ?? 0, cpu);
        }
        finally
        {
            foreach (var caller in callers)
            {
                await caller.DisposeAsync();
            }
        }
    }

    private static async Task<(long Operations, TimeSpan Elapsed)> RunUnaryAsync(List<IUnaryCaller> callers, TimeSpan duration, LatencyRecorder? recorder, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var deadline = start + ToTimestampTicks(duration);
        long operations;
        if (callers.Count == 1)
        {
            operations = await CallLoopAsync(callers[0], deadline, recorder, cancellationToken);
        }
        else
        {
            var loops = new Task<long>[callers.Count];
            for (var i = 0; i < loops.Length; i++)
            {
                var caller = callers[i];

                // On the thread pool, so that the callers run in parallel from the first call rather than in turn; a
                // caller that blocks gets a thread of its own, or the pool would run a few of them at a time.
                loops[i] = caller.Blocking
                    ? Task.Factory.StartNew(() => CallLoopAsync(caller, deadline, null, cancellationToken).GetAwaiter().GetResult(), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    : Task.Run(() => CallLoopAsync(caller, deadline, null, cancellationToken), cancellationToken);
            }

            operations = (await Task.WhenAll(loops)).Sum();
        }

        return (operations, Stopwatch.GetElapsedTime(start));
    }

    private static async Task<long> CallLoopAsync(IUnaryCaller caller, long deadline, LatencyRecorder? recorder, CancellationToken cancellationToken)
    {
        long operations = 0;
        while (true)
        {
            var before = Stopwatch.GetTimestamp();
            if (before >= deadline)
            {
                return operations;
            }

            cancellationToken.ThrowIfCancellationRequested();
            await caller.CallAsync(cancellationToken);
            recorder?.Record(Stopwatch.GetTimestamp() - before);
            operations++;
        }
    }

    private async Task<BenchMeasurement> MeasureRepeatedAsync(IBenchSubject subject, BenchScenario scenario, CancellationToken cancellationToken)
    {
        // The 64 MiB payload is made before any clock runs, even without a warm-up.
        _ = scenario == BenchScenario.Bulk ? BenchPayloads.Bulk : default;
        if (_options.Warmup > TimeSpan.Zero)
        {
            await RepeatAsync(subject, scenario, _options.Warmup, cancellationToken);
        }

        Settle();
        var cpu = Environment.CpuUsage.TotalTime;
        var (operations, items, elapsed) = await RepeatAsync(subject, scenario, _options.Duration, cancellationToken);
        cpu = Environment.CpuUsage.TotalTime - cpu;
        return scenario == BenchScenario.Stream
            ? new BenchMeasurement(subject.Name, scenario, 1, operations, elapsed, items, 0, null, null, 0, cpu)
            : new BenchMeasurement(subject.Name, scenario, 1, operations, elapsed, 0, items, null, null, 0, cpu);
    }

    // At least one operation, however short the duration: a stream or a transfer is the unit being measured.
    private static async Task<(long Operations, long Items, TimeSpan Elapsed)> RepeatAsync(IBenchSubject subject, BenchScenario scenario, TimeSpan duration, CancellationToken cancellationToken)
    {
        var (expected, unit) = scenario == BenchScenario.Stream
            ? ((long)BenchSizes.StreamMessages, "messages")
            : ((long)BenchSizes.BulkBytes, "bytes");
        var start = Stopwatch.GetTimestamp();
        var deadline = start + ToTimestampTicks(duration);
        long operations = 0;
        long items = 0;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var got = scenario == BenchScenario.Stream
                ? await subject.StreamOnceAsync(cancellationToken)
                : await subject.BulkOnceAsync(cancellationToken);
            if (got != expected)
            {
                throw new BenchFailedException($"{subject.Name} {BenchNames.Of(scenario)}: expected {expected:N0} {unit}, got {got:N0}.");
            }

            operations++;
            items += got;
        }
        while (Stopwatch.GetTimestamp() < deadline);

        return (operations, items, Stopwatch.GetElapsedTime(start));
    }

    // Garbage from set-up and warm-up is collected before the clock starts, not during the measurement.
    internal static void Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
    }

    private static long ToTimestampTicks(TimeSpan duration) => (long)(duration.TotalSeconds * Stopwatch.Frequency);
}
