using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Plexus.Bench;

/// <summary>
/// Runs the serving scenario: for each plan (streams × connections), the in-process reference and then each subject
/// that can carry it, back to back. A measurement has two phases:
/// <list type="number">
/// <item>Open: the client sends the streams' requests at the rate a steady state of that many streams would see them
/// arrive (<see cref="ServingPlan.OpensPerSecond"/>); each handler writes its first token at once and then waits for
/// the pacer, which has not started. Once every stream has its first token, all are open and idle: memory, threads
/// and timers are read.</item>
/// <item>Serve: the pacer starts and every stream gets its remaining tokens at the pace, phases spread evenly, until
/// the last stream ends.</item>
/// </list>
/// </summary>
internal sealed class ServingBench
{
    /// <summary>How long opening or serving may take beyond its planned time before the measurement gives up on the streams left.</summary>
    public static TimeSpan Grace { get; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a subject may take to open its connections.</summary>
    public static TimeSpan ConnectTimeout { get; } = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    /// <summary>How long the warm-up's connections get to close before the measurement reads the process without any.</summary>
    private static readonly TimeSpan Teardown = TimeSpan.FromMilliseconds(250);

    private readonly BenchOptions _options;
    private readonly IBenchProgress _progress;
    private readonly Func<string, TimeSpan>? _externalCpu;
    private readonly TimeProvider _time;
    private readonly TimeProvider _pacerTime;

    /// <param name="options">What to measure.</param>
    /// <param name="progress">Where each measurement is reported while the run is on.</param>
    /// <param name="externalCpu">
    /// Given a subject's name, the CPU time so far of a server outside this process that carries its tokens (the
    /// nats-server), added to the process's own; zero when there is none.
    /// </param>
    /// <param name="time">
    /// The clock of the pacers and of every timestamp; by default the system's, with the pacer's timer on a thread of
    /// its own (<see cref="SleepingThreadTimeProvider"/>) so that it ticks every millisecond it is asked to.
    /// </param>
    public ServingBench(BenchOptions options, IBenchProgress progress, Func<string, TimeSpan>? externalCpu = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        _options = options;
        _progress = progress;
        _externalCpu = externalCpu;
        _time = time ?? TimeProvider.System;
        _pacerTime = time ?? SleepingThreadTimeProvider.Instance;
    }

    /// <summary>How many measurements a run of <paramref name="subjects"/> subjects makes (the reference's included).</summary>
    public static int CountMeasurements(BenchOptions options, int subjects)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Scenarios.Contains(BenchScenario.Serving))
        {
            return 0;
        }

        var plans = 0;
        foreach (var plan in options.ServingSettings.Plans)
        {
            plans++;
        }

        return plans * (subjects + 1);
    }

    /// <param name="subjects">Started subjects, the transport under test first.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <exception cref="BenchFailedException">The machine cannot hold the connections, or a subject could not open them.</exception>
    public async Task<ServingReport> RunAsync(IReadOnlyList<IBenchSubject> subjects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subjects);
        var settings = _options.ServingSettings;
        var mostConnections = 0;
        foreach (var plan in settings.Plans)
        {
            mostConnections = Math.Max(mostConnections, plan.Connections);
        }

        FileDescriptors.EnsureRoomFor(mostConnections);

        var unsupported = new List<KeyValuePair<string, string>>();
        var notes = new List<string>();
        foreach (var subject in subjects)
        {
            if (Unsupported(subject) is { } why)
            {
                unsupported.Add(new(subject.Name, why));
            }
            else if (subject is IServingSubject { ServingNote: { } note })
            {
                notes.Add($"{subject.Name}: {note}");
            }
        }

        var measurements = new List<ServingMeasurement>();
        var reference = new InProcessServing();
        foreach (var plan in settings.Plans)
        {
            measurements.Add(await GuardAsync(reference, plan, cancellationToken));
            foreach (var subject in subjects)
            {
                if (Unsupported(subject) is { } why)
                {
                    var what = $"{subject.Name} {Label(plan)}";
                    await _progress.StartedAsync(what);
                    await _progress.FinishedAsync(what, $"not measured: {why}");
                    continue;
                }

                measurements.Add(await GuardAsync((IServingSubject)subject, plan, cancellationToken));
            }
        }

        var transport = subjects.Count > 0 ? subjects[0].Name : InProcessServing.SubjectName;
        var baselines = new List<string>();
        for (var i = 1; i < subjects.Count; i++)
        {
            baselines.Add(subjects[i].Name);
        }

        return new ServingReport(settings, transport, baselines, measurements, unsupported, notes);
    }

    private static string? Unsupported(IBenchSubject subject) =>
        subject.ServingUnsupported ?? (subject is IServingSubject ? null : "it has no serving side");

    public static string Label(ServingPlan plan) => string.Create(
        CultureInfo.InvariantCulture,
        $"serving {plan.Streams:N0} streams / {plan.Connections:N0} connection{(plan.Connections == 1 ? "" : "s")}");

    private async Task<ServingMeasurement> GuardAsync(IServingSubject subject, ServingPlan plan, CancellationToken cancellationToken)
    {
        var what = $"{subject.Name} {Label(plan)}";
        await _progress.StartedAsync(what);
        try
        {
            if (_options.Warmup > TimeSpan.Zero)
            {
                await MeasureAsync(subject, Warmup(plan), measure: false, cancellationToken);
                await Task.Delay(Teardown, _time, cancellationToken);
            }

            var measurement = await MeasureAsync(subject, plan, measure: true, cancellationToken);
            await _progress.FinishedAsync(what, Describe(measurement));
            return measurement;
        }
        catch (Exception ex) when (ex is PlexusException or IOException or SocketException or HttpRequestException or InvalidDataException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new BenchFailedException($"{what} failed: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    /// <summary>A short run of the same shape, unmeasured: the code paths compiled and the pools filled before the clock starts.</summary>
    internal static ServingPlan Warmup(ServingPlan plan)
    {
        var streams = Math.Min(plan.Streams, 100);
        return plan with { Streams = streams, Connections = Math.Min(plan.Connections, streams), Tokens = Math.Min(plan.Tokens, 8) };
    }

    private static string Describe(ServingMeasurement m)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{m.Served:N0} of {m.Plan.Streams:N0} served");
        if (m.Latencies is { } l)
        {
            text += string.Create(CultureInfo.InvariantCulture, $", TTFT p50 {l.TtftP50Microseconds:0} µs, added ITL p99 {l.AddedItlP99Microseconds:0} µs");
        }

        text += string.Create(CultureInfo.InvariantCulture, $", {m.CpuMicrosecondsPerToken:0.0} µs CPU per token, {m.ManagedBytesPerStream:N0} B managed per idle stream");
        return m.FirstError is { } error ? $"{text}; {m.Failed:N0} failed, first: {error}" : text;
    }

    private async Task<ServingMeasurement> MeasureAsync(IServingSubject subject, ServingPlan plan, bool measure, CancellationToken cancellationToken)
    {
        var frequency = _time.TimestampFrequency;

        // Everything the measurement records into, and the pacer's wheel, is allocated before the first reading.
        var log = new ServingLog(plan.Streams, plan.Tokens, _time);
        var streams = new Task[plan.Streams];
        using var pacer = new ServingPacer(plan, _pacerTime);
        var bare = Resources(measure);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var client = await OpenAsync(subject, plan, pacer, cancellationToken);
        var opened = 0;
        try
        {
            var connected = Resources(measure);

            // Open: the requests go out one interval apart (in bursts of what is due, as the delay's resolution allows).
            var cpu = ProcessCpu(subject.Name);
            var start = _time.GetTimestamp();
            var interval = frequency / plan.OpensPerSecond;
            for (; opened < plan.Streams; opened++)
            {
                var wait = start + (long)(opened * interval) - _time.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / frequency), _time, cancellationToken);
                }

                streams[opened] = RunStreamAsync(client, new ServingRequest(opened, plan.Tokens, plan.TokenBytes), opened % plan.Connections, log, cancel.Token);
            }

            var deadline = start + (long)((plan.StreamLifetime + Grace).TotalSeconds * frequency);
            while (log.AwaitingFirstToken > 0 && _time.GetTimestamp() < deadline)
            {
                await Task.Delay(Poll, _time, cancellationToken);
            }

            var openElapsed = _time.GetElapsedTime(start);
            var openCpu = ProcessCpu(subject.Name) - cpu;
            var openWhenIdle = log.FirstTokens;
            var idle = Resources(measure);

            // Serve: every paced token, until the last stream ends or the time is up.
            cpu = ProcessCpu(subject.Name);
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            start = _time.GetTimestamp();
            pacer.Start();
            var all = Task.WhenAll(streams);
            try
            {
                await all.WaitAsync(plan.StreamLifetime + Grace, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The streams left are cancelled and counted as not served.
                await cancel.CancelAsync();
                await all.WaitAsync(TimeSpan.FromSeconds(10), _time, cancellationToken);
            }

            var serveElapsed = _time.GetElapsedTime(start);
            var serveCpu = ProcessCpu(subject.Name) - cpu;
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            var latencies = ServingLatencies.Compute(log.SentTimes, log.Arrivals, log.Complete, plan.Tokens, pacer.PaceTicks, frequency);
            return new ServingMeasurement(
                subject.Name,
                plan,
                subject is not InProcessServing,
                log.Completed,
                plan.Streams - log.Completed,
                log.FirstError ?? (log.Completed < plan.Streams ? "streams still open when the time was up were cancelled" : null),
                openWhenIdle,
                log.TokensReceived,
                openElapsed,
                serveElapsed,
                latencies,
                openCpu,
                serveCpu,
                bare,
                connected,
                idle,
                allocated);
        }
        finally
        {
            await cancel.CancelAsync();
            try
            {
                await Task.WhenAll(streams.AsSpan(0, opened)).WaitAsync(TimeSpan.FromSeconds(10), _time, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                // A stream that does not notice its cancellation ends with the client's disposal below.
            }

            await client.DisposeAsync();
        }
    }

    private static async Task<IServingClient> OpenAsync(IServingSubject subject, ServingPlan plan, ServingPacer pacer, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(ConnectTimeout);
        try
        {
            return await subject.OpenServingAsync(plan, pacer, limit.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchFailedException(string.Create(CultureInfo.InvariantCulture, $"{subject.Name} did not open {plan.Connections:N0} connections within {ConnectTimeout.TotalSeconds:0} s."), ex);
        }
    }

    // Every failure is the stream's own, recorded in the log and reported as a count: one bad stream does not end the
    // measurement of the others.
    private static async Task RunStreamAsync(IServingClient client, ServingRequest request, int connection, ServingLog log, CancellationToken cancellationToken)
    {
        try
        {
            await client.RunStreamAsync(request, connection, log, cancellationToken);
            log.Ended(request.Stream);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.StreamFailed(request.Stream, ex);
        }
    }

    private TimeSpan ProcessCpu(string subject) => Environment.CpuUsage.TotalTime + (_externalCpu?.Invoke(subject) ?? TimeSpan.Zero);

    private static ServingResources Resources(bool measure)
    {
        if (!measure)
        {
            return new ServingResources(0, 0, 0, 0);
        }

        BenchRunner.Settle();
        using var process = Process.GetCurrentProcess();
        return new ServingResources(GC.GetTotalMemory(forceFullCollection: false), process.WorkingSet64, process.Threads.Count, Timer.ActiveCount);
    }
}
