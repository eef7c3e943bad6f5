using System.Globalization;

namespace Plexus.Bench;

/// <summary>The serving scenario's results: one measurement per plan and subject, the figures built from them, and what could not be measured.</summary>
internal sealed class ServingReport
{
    /// <param name="settings">The workload.</param>
    /// <param name="transport">The transport under test, whose figures the ratios divide.</param>
    /// <param name="baselines">The other subjects of the run, in table order.</param>
    /// <param name="measurements">Per plan, the in-process reference first, then the subjects that carried it.</param>
    /// <param name="unsupported">Subjects that cannot carry the scenario, with the reason.</param>
    /// <param name="notes">What subjects changed from their defaults to carry it.</param>
    public ServingReport(
        ServingSettings settings,
        string transport,
        IReadOnlyList<string> baselines,
        IReadOnlyList<ServingMeasurement> measurements,
        IReadOnlyList<KeyValuePair<string, string>> unsupported,
        IReadOnlyList<string> notes)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(baselines);
        ArgumentNullException.ThrowIfNull(measurements);
        ArgumentNullException.ThrowIfNull(unsupported);
        ArgumentNullException.ThrowIfNull(notes);
        Settings = settings;
        Transport = transport;
        Measurements = measurements;
        Unsupported = unsupported;
        Notes = notes;
        var measured = new List<string>();
        foreach (var baseline in baselines)
        {
            if (!IsUnsupported(baseline))
            {
                measured.Add(baseline);
            }
        }

        Baselines = measured;
        Figures = BuildFigures();
    }

    public ServingSettings Settings { get; }

    public string Transport { get; }

    /// <summary>The baselines that carried the scenario, in table order.</summary>
    public IReadOnlyList<string> Baselines { get; }

    public IReadOnlyList<ServingMeasurement> Measurements { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Unsupported { get; }

    public IReadOnlyList<string> Notes { get; }

    /// <summary>One figure per plan and quantity, every subject's value in it; the ratios divide the transport's by each baseline's.</summary>
    public IReadOnlyList<BenchFigure> Figures { get; }

    /// <summary>The plans measured, in order.</summary>
    public IReadOnlyList<ServingPlan> Plans
    {
        get
        {
            var plans = new List<ServingPlan>();
            foreach (var m in Measurements)
            {
                if (!plans.Contains(m.Plan))
                {
                    plans.Add(m.Plan);
                }
            }

            return plans;
        }
    }

    /// <summary>The measurements of one plan, in table order.</summary>
    public IReadOnlyList<ServingMeasurement> Of(ServingPlan plan)
    {
        var of = new List<ServingMeasurement>();
        foreach (var m in Measurements)
        {
            if (m.Plan == plan)
            {
                of.Add(m);
            }
        }

        return of;
    }

    /// <summary>The in-process reference's measurement of the plan.</summary>
    public ServingMeasurement? Reference(ServingPlan plan)
    {
        foreach (var m in Measurements)
        {
            if (m.Plan == plan && m.Subject == InProcessServing.SubjectName)
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>A subject's time to first token minus the in-process reference's, at p50 and p99.</summary>
    public (double? P50, double? P99) AddedTtft(ServingMeasurement measurement)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        if (measurement.Subject == InProcessServing.SubjectName || measurement.Latencies is not { } own || Reference(measurement.Plan)?.Latencies is not { } reference)
        {
            return (null, null);
        }

        return (own.TtftP50Microseconds - reference.TtftP50Microseconds, own.TtftP99Microseconds - reference.TtftP99Microseconds);
    }

    /// <summary>The key every figure of the plan starts with, such as <c>serving.s10000.c1</c>.</summary>
    public static string KeyOf(ServingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return string.Create(CultureInfo.InvariantCulture, $"serving.s{plan.Streams}.c{plan.Connections}");
    }

    private bool IsUnsupported(string subject)
    {
        foreach (var (name, _) in Unsupported)
        {
            if (name == subject)
            {
                return true;
            }
        }

        return false;
    }

    private List<BenchFigure> BuildFigures()
    {
        var figures = new List<BenchFigure>();
        foreach (var plan in Plans)
        {
            var key = KeyOf(plan);
            var label = string.Create(CultureInfo.InvariantCulture, $"serving {plan.Streams:N0} streams / {plan.Connections:N0} conn.");
            var of = Of(plan);
            Add("streamsServed", "streams served", "streams", false, m => m.Served);
            Add("ttftP50Us", "TTFT p50", "µs", true, m => m.Latencies?.TtftP50Microseconds);
            Add("ttftP99Us", "TTFT p99", "µs", true, m => m.Latencies?.TtftP99Microseconds);
            Add("ttftAddedP50Us", "added TTFT p50", "µs", true, m => AddedTtft(m).P50);
            Add("ttftAddedP99Us", "added TTFT p99", "µs", true, m => AddedTtft(m).P99);
            Add("itlAddedP50Us", "added ITL p50", "µs", true, m => m.Latencies?.AddedItlP50Microseconds);
            Add("itlAddedP99Us", "added ITL p99", "µs", true, m => m.Latencies?.AddedItlP99Microseconds);
            Add("itlAddedMaxUs", "added ITL max", "µs", true, m => m.Latencies?.AddedItlMaxMicroseconds);
            Add("cpuUsPerToken", "CPU per token", "µs", true, m => m.CpuMicrosecondsPerToken);
            Add("allocatedBytesPerToken", "allocated per token", "B", true, m => m.AllocatedBytesPerToken);
            Add("managedBytesPerStream", "managed memory per idle stream", "B", true, m => m.ManagedBytesPerStream);
            Add("workingSetBytesPerStream", "working set per idle stream", "B", true, m => m.WorkingSetBytesPerStream);
            Add("managedBytesPerConnection", "managed memory per connection", "B", true, m => m.ManagedBytesPerConnection);
            Add("workingSetBytesPerConnection", "working set per connection", "B", true, m => m.WorkingSetBytesPerConnection);

            void Add(string name, string what, string unit, bool lowerIsBetter, Func<ServingMeasurement, double?> read)
            {
                var values = new List<KeyValuePair<string, double>>();
                foreach (var m in of)
                {
                    if (read(m) is { } value)
                    {
                        values.Add(new(m.Subject, value));
                    }
                }

                if (values.Count > 0)
                {
                    figures.Add(new BenchFigure($"{key}.{name}", $"{label} {what}", unit, lowerIsBetter, values, Transport, Baselines));
                }
            }
        }

        return figures;
    }
}
