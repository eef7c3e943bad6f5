using System.Text.Json;

namespace Plexus.Bench.Tests;

public sealed class BenchReportTests
{
    private static readonly BenchEnvironment Environment = new(".NET 10.0.0", "Linux", "x64", 2, ServerGc: false);

    private static BenchReport Report()
    {
        var options = new BenchOptions("memory", [BenchScenario.Unary, BenchScenario.Stream, BenchScenario.Bulk], [1, 64], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), [BenchBaseline.RawTcp, BenchBaseline.KestrelH2], Json: true);
        var second = TimeSpan.FromSeconds(1);
        BenchMeasurement[] measurements =
        [
            new("memory", BenchScenario.Unary, 1, 200, second, 0, 0, 5, 10, 200),
            new("raw-tcp", BenchScenario.Unary, 1, 100, second, 0, 0, 20, 40, 100),
            new("kestrel-h2", BenchScenario.Unary, 1, 50, second, 0, 0, 50, 400, 50),
            new("memory", BenchScenario.Unary, 64, 1000, second, 0, 0, null, null, 0),
            new("raw-tcp", BenchScenario.Unary, 64, 500, second, 0, 0, null, null, 0),
            new("kestrel-h2", BenchScenario.Unary, 64, 400, second, 0, 0, null, null, 0),
            new("memory", BenchScenario.Stream, 1, 3, second, 300_000, 0, null, null, 0),
            new("raw-tcp", BenchScenario.Stream, 1, 6, second, 600_000, 0, null, null, 0),
            new("kestrel-h2", BenchScenario.Stream, 1, 1, second, 100_000, 0, null, null, 0),
            new("memory", BenchScenario.Bulk, 1, 4, TimeSpan.FromSeconds(2), 0, 4L << 30, null, null, 0, TimeSpan.FromSeconds(1.024)),
            new("raw-tcp", BenchScenario.Bulk, 1, 2, TimeSpan.FromSeconds(2), 0, 2L << 30, null, null, 0, TimeSpan.FromSeconds(2.048)),
            new("kestrel-h2", BenchScenario.Bulk, 1, 1, TimeSpan.FromSeconds(2), 0, 1L << 30, null, null, 0),
        ];
        return new BenchReport(options, "memory", ["raw-tcp", "kestrel-h2"], measurements);
    }

    [Fact]
    public void Figures_follow_the_scenarios_and_divide_the_transport_by_each_baseline()
    {
        var report = Report();

        Assert.Equal(
            ["unary.c1.p50Us", "unary.c1.p99Us", "unary.c1.requestsPerSecond", "unary.c64.requestsPerSecond", "stream.messagesPerSecond", "bulk.gigabytesPerSecond", "bulk.cpuUsPerMiB"],
            report.Figures.Select(f => f.Key));

        var p50 = report.Figures[0];
        Assert.True(p50.LowerIsBetter);
        Assert.Equal(0.25, p50.Ratio("memory", "raw-tcp"));
        Assert.Equal(0.1, p50.Ratio("memory", "kestrel-h2"));

        var c64 = report.Figures.Single(f => f.Key == "unary.c64.requestsPerSecond");
        Assert.False(c64.LowerIsBetter);
        Assert.Equal(2.5, c64.Ratio("memory", "kestrel-h2"));

        var bulk = report.Figures.Single(f => f.Key == "bulk.gigabytesPerSecond");
        Assert.Equal(4.0 * (1 << 30) / 2 / 1e9, bulk.ValueOf("memory"));
        Assert.Equal(2.0, bulk.Ratio("memory", "raw-tcp"));

        // 1.024 s of CPU for 4,096 MiB is 250 µs per MiB; raw-tcp's 2.048 s for 2,048 MiB is 1,000. Kestrel's CPU time
        // was not measured, so it has no value and no ratio.
        var cpu = report.Figures.Single(f => f.Key == "bulk.cpuUsPerMiB");
        Assert.True(cpu.LowerIsBetter);
        Assert.Equal("µs", cpu.Unit);
        Assert.Equal(250, cpu.ValueOf("memory")!.Value, precision: 9);
        Assert.Equal(1000, cpu.ValueOf("raw-tcp")!.Value, precision: 9);
        Assert.Equal(0.25, cpu.Ratio("memory", "raw-tcp")!.Value, precision: 9);
        Assert.Null(cpu.ValueOf("kestrel-h2"));
        Assert.Null(cpu.Ratio("memory", "kestrel-h2"));
    }

    [Fact]
    public void The_tcp_baseline_gets_its_column_and_ratios_like_any_other()
    {
        var options = new BenchOptions("quic", [BenchScenario.Unary, BenchScenario.Bulk], [1], TimeSpan.FromSeconds(1), TimeSpan.Zero, [BenchBaseline.Tcp], Json: false);
        var second = TimeSpan.FromSeconds(1);
        BenchMeasurement[] measurements =
        [
            new("quic", BenchScenario.Unary, 1, 100, second, 0, 0, 30, 90, 100),
            new("tcp", BenchScenario.Unary, 1, 200, second, 0, 0, 20, 60, 200),
            new("quic", BenchScenario.Bulk, 1, 4, second, 0, 1L << 30, null, null, 0, TimeSpan.FromSeconds(0.5)),
            new("tcp", BenchScenario.Bulk, 1, 8, second, 0, 2L << 30, null, null, 0, TimeSpan.FromSeconds(0.5)),
        ];
        var report = new BenchReport(options, "quic", [.. options.Baselines.Select(BenchNames.Of)], measurements);

        Assert.Equal(["tcp"], report.Baselines);
        Assert.Equal(1.5, report.Figures.Single(f => f.Key == "unary.c1.p50Us").Ratio("quic", "tcp"));
        Assert.Equal(0.5, report.Figures.Single(f => f.Key == "bulk.gigabytesPerSecond").Ratio("quic", "tcp"));
        Assert.Equal(2.0, report.Figures.Single(f => f.Key == "bulk.cpuUsPerMiB").Ratio("quic", "tcp"));

        using var text = new StringWriter();
        BenchTable.Write(report, Environment, text);
        var lines = text.ToString().Split('\n');
        Assert.Contains("transport quic against tcp", text.ToString(), StringComparison.Ordinal);
        Assert.Equal(["figure", "quic", "tcp", "quic/tcp"], lines.Single(l => l.StartsWith("figure", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var cpuRow = lines.Single(l => l.StartsWith("bulk CPU per MiB (µs)", StringComparison.Ordinal));
        Assert.Equal(["488.3", "244.1", "2.00x"], cpuRow.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^3..]);
    }

    [Fact]
    public void Json_has_the_documented_shape()
    {
        using var stream = new MemoryStream();
        BenchJson.Write(Report(), Environment, stream);
        using var json = JsonDocument.Parse(stream.ToArray());
        var root = json.RootElement;

        Assert.Equal(1, root.GetProperty("formatVersion").GetInt32());
        Assert.Equal("memory", root.GetProperty("transport").GetString());
        Assert.Equal(["raw-tcp", "kestrel-h2"], root.GetProperty("baselines").EnumerateArray().Select(e => e.GetString()));

        var settings = root.GetProperty("settings");
        Assert.Equal(10, settings.GetProperty("durationSeconds").GetDouble());
        Assert.Equal(2, settings.GetProperty("warmupSeconds").GetDouble());
        Assert.Equal(["unary", "stream", "bulk"], settings.GetProperty("scenarios").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([1, 64], settings.GetProperty("concurrency").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(64, settings.GetProperty("unaryRequestBytes").GetInt32());
        Assert.Equal(100_000, settings.GetProperty("streamMessages").GetInt32());
        Assert.Equal(64 * 1024 * 1024, settings.GetProperty("bulkBytes").GetInt32());

        Assert.Equal(2, root.GetProperty("environment").GetProperty("processorCount").GetInt32());

        var measurements = root.GetProperty("measurements").EnumerateArray().ToList();
        Assert.Equal(12, measurements.Count);
        var first = measurements[0];
        Assert.Equal(
            ["subject", "scenario", "concurrency", "operations", "seconds", "operationsPerSecond", "p50Us", "p99Us", "latencySamples", "messages", "messagesPerSecond", "bytes", "gigabytesPerSecond", "cpuSeconds", "cpuUsPerMiB"],
            first.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("cpuSeconds").ValueKind);
        Assert.Equal(1.024, measurements[9].GetProperty("cpuSeconds").GetDouble(), precision: 9);
        Assert.Equal(250, measurements[9].GetProperty("cpuUsPerMiB").GetDouble(), precision: 9);
        Assert.Equal("unary", first.GetProperty("scenario").GetString());
        Assert.Equal(200, first.GetProperty("operationsPerSecond").GetDouble());
        Assert.Equal(5, first.GetProperty("p50Us").GetDouble());
        Assert.Equal(JsonValueKind.Null, measurements[3].GetProperty("p50Us").ValueKind);

        var figure = root.GetProperty("figures")[0];
        Assert.Equal("unary.c1.p50Us", figure.GetProperty("key").GetString());
        Assert.Equal("us", figure.GetProperty("unit").GetString());
        Assert.True(figure.GetProperty("lowerIsBetter").GetBoolean());
        Assert.Equal(20, figure.GetProperty("values").GetProperty("raw-tcp").GetDouble());
        Assert.Equal(0.25, figure.GetProperty("ratios").GetProperty("raw-tcp").GetDouble());
        Assert.Equal(0.1, figure.GetProperty("ratios").GetProperty("kestrel-h2").GetDouble());
    }

    [Fact]
    public void Table_shows_each_figure_with_its_ratios()
    {
        using var text = new StringWriter();
        BenchTable.Write(Report(), Environment, text);
        var lines = text.ToString().Split('\n');

        var header = lines.Single(l => l.StartsWith("figure", StringComparison.Ordinal));
        Assert.Contains("memory/raw-tcp", header, StringComparison.Ordinal);
        Assert.Contains("memory/kestrel-h2", header, StringComparison.Ordinal);

        var p50 = lines.Single(l => l.StartsWith("unary c=1 p50 latency (µs)", StringComparison.Ordinal));
        Assert.Equal(["5.0", "20.0", "0.25x", "50.0", "0.10x"], p50.Split(' ', StringSplitOptions.RemoveEmptyEntries)[5..]);

        var bulk = lines.Single(l => l.StartsWith("bulk 64 MiB", StringComparison.Ordinal));
        Assert.Contains("2.00x", bulk, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_baselines_there_are_no_ratio_columns()
    {
        var options = new BenchOptions("memory", [BenchScenario.Stream], [1], TimeSpan.FromSeconds(1), TimeSpan.Zero, [], Json: false);
        var report = new BenchReport(options, "memory", [], [new("memory", BenchScenario.Stream, 1, 1, TimeSpan.FromSeconds(1), 100_000, 0, null, null, 0)]);
        using var text = new StringWriter();

        BenchTable.Write(report, Environment, text);

        var lines = text.ToString().Split('\n');
        Assert.Equal(["figure", "memory"], lines.Single(l => l.StartsWith("figure", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith("100,000", lines.Single(l => l.StartsWith("stream", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("against no baseline", text.ToString(), StringComparison.Ordinal);
    }
}

public sealed class BenchRichOutputTests
{
    [Fact]
    public async Task Progress_reports_every_measurement_and_counts_them_up_front()
    {
        var options = BenchOptions.Parse(BenchArguments.Parse(["--scenario", "unary,stream,bulk", "--concurrency", "1,8,64"]));

        // Three unary concurrencies plus stream and bulk, for each of three subjects.
        Assert.Equal(15, BenchRunner.CountMeasurements(options, subjects: 3));

        var lines = new StringWriter();
        IBenchProgress progress = new LineBenchProgress(lines);
        await progress.StartedAsync("tcp unary c=1");
        await progress.FinishedAsync("tcp unary c=1", "10 req/s");
        Assert.Equal($"bench: tcp unary c=1 ...{Environment.NewLine}bench: tcp unary c=1: 10 req/s{Environment.NewLine}", lines.ToString());
    }
}
