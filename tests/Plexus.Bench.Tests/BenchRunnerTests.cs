namespace Plexus.Bench.Tests;

public sealed class BenchRunnerTests
{
    private static BenchOptions Options(params BenchScenario[] scenarios) =>
        new("fake", scenarios, [1, 3], TimeSpan.FromMilliseconds(200), TimeSpan.Zero, [BenchBaseline.RawTcp], Json: false);

    [Fact]
    public async Task Every_subject_is_measured_in_every_scenario_in_order()
    {
        var subjects = new[] { new FakeSubject("fake"), new FakeSubject("raw-tcp") };

        var measurements = await new BenchRunner(Options(BenchScenario.Unary, BenchScenario.Stream, BenchScenario.Bulk), TextWriter.Null)
            .RunAsync(subjects, CancellationToken.None);

        Assert.Equal(
            [
                ("fake", BenchScenario.Unary, 1), ("raw-tcp", BenchScenario.Unary, 1),
                ("fake", BenchScenario.Unary, 3), ("raw-tcp", BenchScenario.Unary, 3),
                ("fake", BenchScenario.Stream, 1), ("raw-tcp", BenchScenario.Stream, 1),
                ("fake", BenchScenario.Bulk, 1), ("raw-tcp", BenchScenario.Bulk, 1),
            ],
            measurements.Select(m => (m.Subject, m.Scenario, m.Concurrency)));
        Assert.All(measurements, m => Assert.True(m.Operations > 0 && m.Elapsed > TimeSpan.Zero, $"{m.Subject} {m.Scenario}: {m.Operations} in {m.Elapsed}"));
    }

    [Fact]
    public async Task Unary_records_latency_with_one_caller_only_and_closes_every_caller()
    {
        var subject = new FakeSubject("fake");

        var measurements = await new BenchRunner(Options(BenchScenario.Unary), TextWriter.Null).RunAsync([subject], CancellationToken.None);

        var single = measurements.Single(m => m.Concurrency == 1);
        Assert.NotNull(single.P50Microseconds);
        Assert.NotNull(single.P99Microseconds);
        Assert.True(single.P99Microseconds >= single.P50Microseconds);
        Assert.Equal(Math.Min(single.Operations, LatencyRecorder.DefaultCapacity), single.LatencySamples);

        var three = measurements.Single(m => m.Concurrency == 3);
        Assert.Null(three.P50Microseconds);
        Assert.Equal(0, three.LatencySamples);

        Assert.Equal(4, subject.UnaryCallersOpened);
        Assert.Equal(4, subject.UnaryCallersDisposed);
    }

    [Fact]
    public async Task Stream_and_bulk_count_messages_and_bytes()
    {
        var measurements = await new BenchRunner(Options(BenchScenario.Stream, BenchScenario.Bulk), TextWriter.Null)
            .RunAsync([new FakeSubject("fake")], CancellationToken.None);

        var stream = measurements.Single(m => m.Scenario == BenchScenario.Stream);
        Assert.Equal(stream.Operations * BenchSizes.StreamMessages, stream.Messages);
        Assert.True(stream.MessagesPerSecond > 0);

        var bulk = measurements.Single(m => m.Scenario == BenchScenario.Bulk);
        Assert.Equal(bulk.Operations * BenchSizes.BulkBytes, bulk.Bytes);
        Assert.True(bulk.GigabytesPerSecond > 0);
    }

    [Fact]
    public async Task Every_measurement_takes_the_process_cpu_time_and_bulk_divides_it_by_the_payload()
    {
        // The fake subject's loops never block: 50 ms of them is CPU time the process spends, whatever the machine.
        var measurements = await new BenchRunner(Options(BenchScenario.Unary, BenchScenario.Stream, BenchScenario.Bulk), TextWriter.Null)
            .RunAsync([new FakeSubject("fake")], CancellationToken.None);

        Assert.All(measurements, m => Assert.True(m.ProcessorTime > TimeSpan.Zero, $"{m.Scenario} c={m.Concurrency}: {m.ProcessorTime}"));
        Assert.All(measurements.Where(m => m.Scenario != BenchScenario.Bulk), m => Assert.Null(m.CpuMicrosecondsPerMebibyte));

        var bulk = measurements.Single(m => m.Scenario == BenchScenario.Bulk);
        var mebibytes = (double)bulk.Bytes / (1 << 20);
        Assert.Equal(bulk.ProcessorTime!.Value.TotalMicroseconds / mebibytes, bulk.CpuMicrosecondsPerMebibyte!.Value, precision: 6);
    }

    [Fact]
    public async Task A_short_stream_fails_the_run_and_names_the_subject()
    {
        var runner = new BenchRunner(Options(BenchScenario.Stream), TextWriter.Null);

        var ex = await Assert.ThrowsAsync<BenchFailedException>(() => runner.RunAsync([new FakeSubject("lossy", streamMessages: 99_999)], CancellationToken.None));

        Assert.Contains("lossy", ex.Message, StringComparison.Ordinal);
        Assert.Contains("99,999", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Progress_names_each_measurement()
    {
        using var progress = new StringWriter();

        await new BenchRunner(Options(BenchScenario.Stream), progress).RunAsync([new FakeSubject("fake")], CancellationToken.None);

        Assert.Contains("bench: fake stream: ", progress.ToString(), StringComparison.Ordinal);
        Assert.Contains("msg/s", progress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_ends_the_run_as_cancelled_not_as_failed()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        var runner = new BenchRunner(Options(BenchScenario.Unary, BenchScenario.Stream), TextWriter.Null);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync([new FakeSubject("fake")], cancel.Token));
    }
}
