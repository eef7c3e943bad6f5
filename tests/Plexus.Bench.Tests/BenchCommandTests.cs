using System.Globalization;
using System.Text.Json;
using Plexus.Bench.Tests.Support;
using Plexus.Host.Tests.Support;

namespace Plexus.Bench.Tests;

/// <summary>The real bench executable, with the real plugins copied beside it and real baselines.</summary>
public sealed class BenchCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_short_run_over_memory_reports_every_figure_for_every_subject()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "memory", "--duration", "100ms", "--warmup", "0", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal("memory", root.GetProperty("transport").GetString());

        // Another transport than tcp: the tcp transport is a baseline by default, first in the table.
        string[] subjects = ["memory", "tcp", "raw-tcp", "raw-tcp-blocking", "kestrel-h2"];
        Assert.Equal(subjects[1..], root.GetProperty("baselines").EnumerateArray().Select(b => b.GetString()));
        var measurements = root.GetProperty("measurements").EnumerateArray().ToList();
        Assert.Equal(subjects.Length * 4, measurements.Count);
        foreach (var m in measurements)
        {
            var name = $"{m.GetProperty("subject").GetString()} {m.GetProperty("scenario").GetString()} c={m.GetProperty("concurrency").GetInt32()}";
            Assert.True(m.GetProperty("operations").GetInt64() > 0, name);
            Assert.True(m.GetProperty("operationsPerSecond").GetDouble() > 0, name);
        }

        var figures = root.GetProperty("figures").EnumerateArray().ToDictionary(f => f.GetProperty("key").GetString()!);
        Assert.Equal(
            ["unary.c1.p50Us", "unary.c1.p99Us", "unary.c1.requestsPerSecond", "unary.c64.requestsPerSecond", "stream.messagesPerSecond", "bulk.gigabytesPerSecond", "bulk.cpuUsPerMiB"],
            figures.Keys);
        foreach (var (key, figure) in figures)
        {
            foreach (var subject in subjects)
            {
                Assert.True(figure.GetProperty("values").GetProperty(subject).GetDouble() > 0, $"{key} {subject}");
            }

            Assert.True(figure.GetProperty("ratios").GetProperty("tcp").GetDouble() > 0, key);
            Assert.True(figure.GetProperty("ratios").GetProperty("raw-tcp").GetDouble() > 0, key);
            Assert.True(figure.GetProperty("ratios").GetProperty("raw-tcp-blocking").GetDouble() > 0, key);
            Assert.True(figure.GetProperty("ratios").GetProperty("kestrel-h2").GetDouble() > 0, key);
        }

        // Progress goes to standard error, so that standard output is the JSON alone.
        Assert.Contains("bench: kestrel-h2 bulk", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_short_run_measures_the_tcp_transport_beside_itself_in_low_latency_mode()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--scenario", "unary", "--concurrency", "1", "--baseline", "tcp-lowlatency", "--duration", "100ms", "--warmup", "0", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal("tcp", root.GetProperty("transport").GetString());
        Assert.Equal(["tcp-lowlatency"], root.GetProperty("baselines").EnumerateArray().Select(b => b.GetString()));
        var p50 = root.GetProperty("figures").EnumerateArray().Single(f => f.GetProperty("key").GetString() == "unary.c1.p50Us");
        Assert.True(p50.GetProperty("values").GetProperty("tcp-lowlatency").GetDouble() > 0);
        Assert.True(p50.GetProperty("ratios").GetProperty("tcp-lowlatency").GetDouble() > 0);
    }

    [Fact]
    public async Task A_short_run_over_nats_starts_a_server_and_measures_nats_raw_beside_it()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "nats", "--concurrency", "1,4", "--duration", "100ms", "--warmup", "0", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("bench: started nats-server on 127.0.0.1:", result.StandardError, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal("nats", root.GetProperty("transport").GetString());
        Assert.Equal(["nats-raw", "tcp", "raw-tcp", "raw-tcp-blocking", "kestrel-h2"], root.GetProperty("baselines").EnumerateArray().Select(b => b.GetString()));

        var measurements = root.GetProperty("measurements").EnumerateArray().ToList();
        Assert.Equal(6 * 4, measurements.Count);
        Assert.All(measurements, m => Assert.True(m.GetProperty("operationsPerSecond").GetDouble() > 0, m.GetProperty("subject").GetString()));

        var p50 = root.GetProperty("figures").EnumerateArray().Single(f => f.GetProperty("key").GetString() == "unary.c1.p50Us");
        Assert.True(p50.GetProperty("ratios").GetProperty("nats-raw").GetDouble() > 0);
    }

    [Fact]
    public async Task A_nats_server_off_loopback_is_refused_before_anything_is_sent()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "nats", "--duration", "50ms", "--Plexus:Transports:Nats:Url=nats://10.0.0.5:4222");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not on loopback", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task The_table_names_the_transport_and_its_ratios()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "memory", "--scenario", "stream", "--duration", "50ms", "--warmup", "0", "--baseline", "raw-tcp");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("transport memory against raw-tcp", result.StandardOutput, StringComparison.Ordinal);
        var row = result.StandardOutput.Split('\n').Single(l => l.StartsWith("stream", StringComparison.Ordinal));
        Assert.EndsWith("x", row, StringComparison.Ordinal);
        Assert.DoesNotContain("kestrel-h2", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_tcp_baseline_is_the_tcp_transport_measured_beside_another_one()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "memory", "--baseline", "tcp", "--scenario", "unary,bulk", "--concurrency", "1,4", "--duration", "100ms", "--warmup", "0");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("transport memory against tcp,", result.StandardOutput, StringComparison.Ordinal);
        var lines = result.StandardOutput.Split('\n');
        Assert.Equal(["figure", "memory", "tcp", "memory/tcp"], lines.Single(l => l.StartsWith("figure", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        foreach (var label in new[] { "unary c=1 p50 latency (µs)", "unary c=1 p99 latency (µs)", "unary c=1 throughput (req/s)", "unary c=4 throughput (req/s)", "bulk 64 MiB request (GB/s)", "bulk CPU per MiB (µs)" })
        {
            var row = lines.Single(l => l.StartsWith(label, StringComparison.Ordinal));
            var cells = row[label.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, cells.Length);
            Assert.True(double.Parse(cells[1], NumberStyles.Number, CultureInfo.InvariantCulture) > 0, row);
            Assert.EndsWith("x", cells[2], StringComparison.Ordinal);
        }

        // Measured, as every subject is, right after the transport under test, and over the tcp transport's own address.
        Assert.Contains("bench: tcp unary c=1: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("bench: tcp bulk: ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("raw-tcp", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("kestrel-h2", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_quic_plugin_beside_the_bench_is_measured_against_the_tcp_transport_with_its_ephemeral_certificate()
    {
        // No Tls settings: the quic server serves an ephemeral certificate that its client in this process trusts.
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "quic", "--baseline", "tcp", "--concurrency", "1,8", "--duration", "100ms", "--warmup", "0", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal("quic", root.GetProperty("transport").GetString());
        Assert.Equal(["tcp"], root.GetProperty("baselines").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal(2 * 4, root.GetProperty("measurements").GetArrayLength());
        foreach (var figure in root.GetProperty("figures").EnumerateArray())
        {
            var key = figure.GetProperty("key").GetString();
            Assert.True(figure.GetProperty("values").GetProperty("quic").GetDouble() > 0, key);
            Assert.True(figure.GetProperty("values").GetProperty("tcp").GetDouble() > 0, key);
            Assert.True(figure.GetProperty("ratios").GetProperty("tcp").GetDouble() > 0, key);
        }
    }

    [Fact]
    public async Task The_tcp_transport_as_its_own_baseline_exits_2()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "tcp", "--baseline", "tcp", "--duration", "50ms");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cannot be its own baseline", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task A_wrong_option_exits_2_with_the_bench_usage()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--scenario", "sideways");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--scenario 'sideways'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Usage: Plexus.Bench", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task An_unknown_transport_exits_2_and_lists_the_loaded_ones()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "carrier-pigeon", "--duration", "50ms");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--transport 'carrier-pigeon'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("memory", result.StandardError, StringComparison.Ordinal);
    }
    [Fact]
    public async Task The_tcp_plugin_beside_the_bench_is_measured_over_loopback_with_a_duration_in_bare_seconds()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--transport", "tcp", "--scenario", "unary", "--concurrency", "1", "--baseline", "none", "--duration", "1", "--warmup", "0", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal("tcp", root.GetProperty("transport").GetString());
        Assert.Equal(1.0, root.GetProperty("settings").GetProperty("durationSeconds").GetDouble());
        Assert.Equal(0.0, root.GetProperty("settings").GetProperty("warmupSeconds").GetDouble());
        var measurement = Assert.Single(root.GetProperty("measurements").EnumerateArray());
        Assert.Equal("tcp", measurement.GetProperty("subject").GetString());
        Assert.True(measurement.GetProperty("operations").GetInt64() > 0);
    }

    [Fact]
    public async Task Help_prints_the_usage_with_every_option_and_exits_0()
    {
        var result = await BenchProcess.RunAsync(Timeout, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage: Plexus.Bench", result.StandardOutput, StringComparison.Ordinal);
        foreach (var option in new[] { "--transport", "--scenario", "--concurrency", "--duration", "--warmup", "--baseline", "--json" })
        {
            Assert.Contains(option, result.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Contains("a bare number is seconds", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("", result.StandardError);
    }

    [Theory]
    [InlineData(Signals.SigInt, 130, "SIGINT")]
    [InlineData(Signals.SigTerm, 143, "SIGTERM")]
    public async Task A_signal_during_a_measurement_ends_the_run_with_128_plus_the_signal(int signal, int exitCode, string name)
    {
        // Long enough that only the signal can end it within the timeout below.
        await using var bench = BenchProcess.Start("--transport", "memory", "--scenario", "unary", "--concurrency", "1", "--baseline", "none", "--duration", "5m", "--warmup", "0");
        await bench.WaitForErrorAsync("bench: memory unary", Timeout);

        bench.Signal(signal);

        Assert.Equal(exitCode, await bench.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"error: bench: cancelled by {name}.", bench.StandardError, StringComparison.Ordinal);
        Assert.Equal("", bench.StandardOutput);
    }
}
