using System.Globalization;

namespace Plexus.Bench;

/// <summary>Everything one <c>bench</c> run measured, and the table rows built from it.</summary>
internal sealed class BenchReport
{
    public BenchReport(BenchOptions options, string subject, IReadOnlyList<string> baselines, IReadOnlyList<BenchMeasurement> measurements, BulkPathReport? bulkPath = null, ServingReport? serving = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(baselines);
        ArgumentNullException.ThrowIfNull(measurements);
        Options = options;
        Subject = subject;
        Baselines = baselines;
        Measurements = measurements;
        BulkPath = bulkPath;
        Serving = serving;
        Figures = BuildFigures();
    }

    public BenchOptions Options { get; }

    /// <summary>The name of the transport under test.</summary>
    public string Subject { get; }

    /// <summary>The baselines measured, in table order.</summary>
    public IReadOnlyList<string> Baselines { get; }

    public IReadOnlyList<BenchMeasurement> Measurements { get; }

    /// <summary>The figures of the transport and its baselines (the bulk path's are in <see cref="BulkPath"/>, serving's in <see cref="Serving"/>).</summary>
    public IReadOnlyList<BenchFigure> Figures { get; }

    /// <summary>The bulk-path scenario's results, when it ran.</summary>
    public BulkPathReport? BulkPath { get; }

    /// <summary>The serving scenario's results, when it ran.</summary>
    public ServingReport? Serving { get; }

    private List<BenchFigure> BuildFigures()
    {
        var figures = new List<BenchFigure>();
        foreach (var scenario in Options.Scenarios)
        {
            switch (scenario)
            {
                case BenchScenario.Unary:
                    foreach (var concurrency in Options.Concurrencies)
                    {
                        var c = concurrency.ToString(CultureInfo.InvariantCulture);
                        Add($"unary.c{c}.p50Us", $"unary c={c} p50 latency", "µs", true, BenchScenario.Unary, concurrency, m => m.P50Microseconds);
                        Add($"unary.c{c}.p99Us", $"unary c={c} p99 latency", "µs", true, BenchScenario.Unary, concurrency, m => m.P99Microseconds);
                        Add($"unary.c{c}.requestsPerSecond", $"unary c={c} throughput", "req/s", false, BenchScenario.Unary, concurrency, m => m.RequestsPerSecond);
                    }

                    break;
                case BenchScenario.Stream:
                    Add("stream.messagesPerSecond", "stream 100,000 x 16 B", "msg/s", false, BenchScenario.Stream, 1, m => m.MessagesPerSecond);
                    break;
                case BenchScenario.Bulk:
                    Add("bulk.gigabytesPerSecond", "bulk 64 MiB request", "GB/s", false, BenchScenario.Bulk, 1, m => m.GigabytesPerSecond);
                    Add("bulk.cpuUsPerMiB", "bulk CPU per MiB", "µs", true, BenchScenario.Bulk, 1, m => m.CpuMicrosecondsPerMebibyte);
                    break;
            }
        }

        return figures;

        void Add(string key, string label, string unit, bool lowerIsBetter, BenchScenario scenario, int concurrency, Func<BenchMeasurement, double?> read)
        {
            var values = new List<KeyValuePair<string, double>>();
            foreach (var name in (IEnumerable<string>)[Subject, .. Baselines])
            {
                var measurement = Measurements.FirstOrDefault(m => m.Subject == name && m.Scenario == scenario && m.Concurrency == concurrency);
                if (measurement is not null && read(measurement) is { } value)
                {
                    values.Add(new(name, value));
                }
            }

            // A row nobody measured (latency at a concurrency where it is not recorded) is left out.
            if (values.Count > 0)
            {
                figures.Add(new BenchFigure(key, label, unit, lowerIsBetter, values));
            }
        }
    }
}
