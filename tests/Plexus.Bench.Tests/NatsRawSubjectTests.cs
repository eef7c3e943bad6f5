namespace Plexus.Bench.Tests;

/// <summary>The nats-raw baseline against a real nats-server started the way the bench starts it.</summary>
public sealed class NatsRawSubjectTests
{
    [Fact]
    public async Task A_short_run_completes_every_scenario_with_throughput()
    {
        await using var server = await BenchNatsServer.StartAsync(CancellationToken.None);
        var options = new BenchOptions(
            "nats",
            [BenchScenario.Unary, BenchScenario.Stream, BenchScenario.Bulk],
            [1, 4],
            TimeSpan.FromMilliseconds(100),
            TimeSpan.Zero,
            [BenchBaseline.NatsRaw],
            Json: false);
        await using var subject = new NatsRawSubject(server.Url);
        await subject.StartAsync(CancellationToken.None);

        var measurements = await new BenchRunner(options, TextWriter.Null).RunAsync([subject], CancellationToken.None);

        Assert.Equal(
            [(BenchScenario.Unary, 1), (BenchScenario.Unary, 4), (BenchScenario.Stream, 1), (BenchScenario.Bulk, 1)],
            measurements.Select(m => (m.Scenario, m.Concurrency)));
        Assert.All(measurements, m =>
        {
            Assert.Equal(BenchNames.NatsRaw, m.Subject);
            Assert.True(m.Operations > 0 && m.RequestsPerSecond > 0, $"{m.Scenario} c={m.Concurrency}: {m.Operations} in {m.Elapsed}");
        });

        var single = measurements[0];
        Assert.NotNull(single.P50Microseconds);
        Assert.True(single.P50Microseconds > 0);
        Assert.Equal(measurements[2].Operations * BenchSizes.StreamMessages, measurements[2].Messages);
        Assert.Equal(measurements[3].Operations * BenchSizes.BulkBytes, measurements[3].Bytes);
    }

    [Fact]
    public async Task Serving_sorts_every_token_of_every_stream_from_one_inbox_per_connection()
    {
        await using var server = await BenchNatsServer.StartAsync(CancellationToken.None);
        var options = new BenchOptions("nats", [BenchScenario.Serving], [1], TimeSpan.FromSeconds(1), TimeSpan.Zero, [BenchBaseline.NatsRaw], Json: false, Serving: new ServingSettings([40], [2], 4, 200, 16));
        await using var subject = new NatsRawSubject(server.Url);
        await subject.StartAsync(CancellationToken.None);

        var report = await new ServingBench(options, new LineBenchProgress(TextWriter.Null), _ => server.ProcessorTime ?? TimeSpan.Zero).RunAsync([subject], CancellationToken.None);

        Assert.Equal(["in-process", "nats-raw"], report.Measurements.Select(m => m.Subject));
        var nats = report.Measurements[1];
        Assert.True(nats.Served == 40, nats.FirstError);
        Assert.Equal(40 * 4, nats.TokensReceived);
        Assert.Equal(40 * 2, nats.Latencies!.GapSamples);
        Assert.Contains(report.Notes, n => n.StartsWith("nats-raw: NATS core has no streams", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_started_server_listens_on_loopback_and_is_gone_after_the_run()
    {
        var server = await BenchNatsServer.StartAsync(CancellationToken.None);
        Assert.True(server.Started);
        Assert.Equal("127.0.0.1", server.Url.Host);
        using (var probe = new System.Net.Sockets.TcpClient())
        {
            await probe.ConnectAsync(System.Net.IPAddress.Loopback, server.Url.Port);
        }

        await server.DisposeAsync();

        using var after = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => after.ConnectAsync(System.Net.IPAddress.Loopback, server.Url.Port));
    }

    [Theory]
    [InlineData("nats://127.0.0.1:4222")]
    [InlineData("nats://localhost:4222")]
    [InlineData("127.0.0.1:4222, nats://[::1]:4223")]
    [InlineData("nats://user:secret@127.0.0.1:4222")]
    public void A_configured_server_on_loopback_is_used_as_given(string urls)
    {
        var server = BenchNatsServer.Configured(urls);

        Assert.False(server.Started);
        Assert.Equal(4222, server.Url.Port);
    }

    [Theory]
    [InlineData("nats://10.0.0.5:4222")]
    [InlineData("nats://127.0.0.1:4222,nats://nats.example:4222")]
    public void A_configured_server_elsewhere_is_refused(string urls)
    {
        var ex = Assert.Throws<BenchFailedException>(() => BenchNatsServer.Configured(urls));
        Assert.Contains("loopback", ex.Message, StringComparison.Ordinal);
    }
}
