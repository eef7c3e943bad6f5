using Microsoft.Extensions.Hosting;
using Plexus.Bench.Tests.Support;

namespace Plexus.Bench.Tests;

/// <summary>
/// The serving scenario against real subjects, small: 50 streams of 5 tokens at 200 tokens/s (a 5 ms pace), the tcp
/// transport loaded from the plugins beside the bench, and kestrel-h2.
/// </summary>
public sealed class ServingBenchTests
{
    private static readonly ServingSettings Small = new([50], [1, 2], 5, 200, 24);

    private static BenchOptions Options(ServingSettings? serving = null) =>
        new("tcp", [BenchScenario.Serving], [1], TimeSpan.FromSeconds(1), TimeSpan.Zero, [BenchBaseline.RawTcp, BenchBaseline.KestrelH2], Json: true, Serving: serving ?? Small);

    private static IHost Host(params string[] more) =>
        BenchHost.Build([$"--Plexus:Plugins:Paths:0={Path.Combine(Path.GetDirectoryName(BenchProcess.BenchDll)!, "plugins")}", .. more]);

    [Fact]
    public async Task Tcp_and_kestrel_serve_every_stream_and_every_token_against_the_in_process_reference()
    {
        using var host = Host();
        await using var tcp = new TransportSubject(BenchHost.FindTransport(host, "tcp"));
        await using var raw = new RawTcpSubject();
        await using var kestrel = new KestrelH2Subject(Small.MaxStreamsPerConnection);
        IBenchSubject[] subjects = [tcp, raw, kestrel];
        foreach (var subject in subjects)
        {
            await subject.StartAsync(CancellationToken.None);
        }

        using var progress = new StringWriter();
        var report = await new ServingBench(Options(), new LineBenchProgress(progress)).RunAsync(subjects, CancellationToken.None);

        // Per plan: the reference, then every subject that carries it; raw-tcp says why it does not.
        Assert.Equal(
            [
                ("in-process", 50, 1), ("tcp", 50, 1), ("kestrel-h2", 50, 1),
                ("in-process", 50, 2), ("tcp", 50, 2), ("kestrel-h2", 50, 2),
            ],
            report.Measurements.Select(m => (m.Subject, m.Plan.Streams, m.Plan.Connections)));
        var (unsupported, why) = Assert.Single(report.Unsupported);
        Assert.Equal("raw-tcp", unsupported);
        Assert.Contains("stream ids", why, StringComparison.Ordinal);
        Assert.Contains("bench: raw-tcp serving 50 streams / 1 connection: not measured: ", progress.ToString(), StringComparison.Ordinal);
        Assert.Equal(["kestrel-h2"], report.Baselines);

        foreach (var m in report.Measurements)
        {
            var name = $"{m.Subject} {m.Plan.Connections}";
            Assert.True(m.Served == 50, $"{name}: {m.Served} served, first error {m.FirstError}");
            Assert.Equal(0, m.Failed);
            Assert.Null(m.FirstError);
            Assert.Equal(50, m.OpenWhenIdle);
            Assert.Equal(50 * 5, m.TokensReceived);
            var latencies = Assert.IsType<ServingLatencies>(m.Latencies);
            Assert.Equal(50, latencies.Streams);
            Assert.Equal(50 * 3, latencies.GapSamples);
            Assert.True(latencies.TtftP50Microseconds > 0 && latencies.TtftP99Microseconds >= latencies.TtftP50Microseconds, name);
            Assert.True(latencies.AddedItlMaxMicroseconds >= latencies.AddedItlP99Microseconds && latencies.AddedItlP99Microseconds >= latencies.AddedItlP50Microseconds, name);

            // Tokens cannot come faster than the pace on average: the gaps minus the pace add up to at least -(pace).
            Assert.True(latencies.AddedItlP99Microseconds > -5_000, name);
            Assert.True(m.CpuMicrosecondsPerToken > 0, name);
            Assert.NotNull(m.ManagedBytesPerStream);
            Assert.True(m.Idle.Threads > 0 && m.Connected.Threads > 0, name);
            Assert.Equal(m.Subject != "in-process", m.HasConnections);
            Assert.Equal(m.HasConnections, m.ManagedBytesPerConnection is not null);
            Assert.True(m.ServeElapsed > TimeSpan.Zero && m.OpenElapsed > TimeSpan.Zero, name);
        }

        var tcpOne = report.Measurements[1];
        var added = report.AddedTtft(tcpOne);
        Assert.Equal(tcpOne.Latencies!.TtftP50Microseconds - report.Measurements[0].Latencies!.TtftP50Microseconds, added.P50);
        Assert.Equal((null, null), report.AddedTtft(report.Measurements[0]));
        Assert.Contains(report.Figures, f => f.Key == "serving.s50.c2.itlAddedP99Us" && f.ValueOf("tcp") is not null && f.Ratio("tcp", "kestrel-h2") is not null);

        // The same report as a table and as JSON.
        var whole = new BenchReport(Options(), "tcp", ["raw-tcp", "kestrel-h2"], [], serving: report);
        using var text = new StringWriter();
        BenchTable.Write(whole, BenchEnvironment.Current, text);
        Assert.Contains("Serving: 50 streams over 2 connections, 5 tokens of 24 B per stream at 200 tokens/s each (10,000 tokens/s in all)", text.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"
kestrel-h2\s+50/50\s", text.ToString());
        Assert.Contains("raw-tcp: not measured: its protocol has no stream ids", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("over loopback; no warm-up", text.ToString(), StringComparison.Ordinal);

        // Drawn for a terminal too.
        using var drawn = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(drawn), ColorSystem = Spectre.Console.ColorSystemSupport.NoColors });
        console.Profile.Width = 200;
        BenchTable.WriteRich(whole, BenchEnvironment.Current, console);
        Assert.Contains("added ITL p50 / p99 / max (µs)", drawn.ToString(), StringComparison.Ordinal);
        Assert.Contains("managed per stream (B)", drawn.ToString(), StringComparison.Ordinal);
        Assert.Contains("raw-tcp: not measured", drawn.ToString(), StringComparison.Ordinal);

        using var json = new MemoryStream();
        BenchJson.Write(whole, BenchEnvironment.Current, json);
        using var document = System.Text.Json.JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        Assert.Equal([50], root.GetProperty("settings").GetProperty("serving").GetProperty("streams").EnumerateArray().Select(e => e.GetInt32()));
        var serving = root.GetProperty("serving");
        Assert.Equal("in-process", serving.GetProperty("reference").GetString());
        Assert.Equal("raw-tcp", serving.GetProperty("unsupported")[0].GetProperty("subject").GetString());
        var measurements = serving.GetProperty("measurements").EnumerateArray().ToList();
        Assert.Equal(6, measurements.Count);
        Assert.All(measurements, m => Assert.Equal(50, m.GetProperty("served").GetInt32()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, measurements[0].GetProperty("connections").ValueKind);
        Assert.Equal(2, measurements[4].GetProperty("connections").GetInt32());
        Assert.True(measurements[1].GetProperty("idle").GetProperty("threads").GetInt32() > 0);
        var keys = root.GetProperty("figures").EnumerateArray().Select(f => f.GetProperty("key").GetString()).ToList();
        Assert.Contains("serving.s50.c1.cpuUsPerToken", keys);
        Assert.Contains("serving.s50.c1.ttftAddedP99Us", keys);
        Assert.Contains("serving.s50.c2.managedBytesPerStream", keys);
    }

    [Fact]
    public async Task A_transport_s_stream_limit_per_connection_is_raised_for_the_run_and_said()
    {
        var result = await BenchProcess.RunAsync(TimeSpan.FromSeconds(120), "--scenario", "serving", "--streams", "5000", "--tokens", "3", "--token-rate", "100", "--baseline", "none", "--warmup", "0");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("tcp: Plexus:Transports:Tcp:MaxConcurrentStreams is 5000 for this run", result.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"\ntcp\s+5,000/5,000 ", result.StandardOutput);
    }

    [Fact]
    public void More_connections_than_the_open_file_limit_allows_fail_before_anything_opens_and_name_the_fix()
    {
        var limit = FileDescriptors.Limit();
        Assert.NotNull(limit);

        var ex = Assert.Throws<BenchFailedException>(() => FileDescriptors.EnsureRoomFor((int)Math.Min(int.MaxValue / 2, limit.Value)));

        Assert.Contains("ulimit -n", ex.Message, StringComparison.Ordinal);
        Assert.Contains(limit.Value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        FileDescriptors.EnsureRoomFor(10);
    }
}
