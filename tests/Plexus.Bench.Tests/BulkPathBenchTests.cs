using Plexus.Bench.Tests.Support;

namespace Plexus.Bench.Tests;

/// <summary>
/// The bulk-path scenario for real, at 4 MiB: two nodes of the library in this process over the tcp transport, the
/// ucx bulk transport (the rdma plugin beside the bench), and ucx_perftest.
/// </summary>
[Collection(UcxMeasurementsCollection.Name)]
public sealed class BulkPathBenchTests
{
    private const int Size = 4 << 20;

    private static BenchOptions Options() =>
        new("tcp", [BenchScenario.BulkPath], [1], TimeSpan.FromMilliseconds(300), TimeSpan.Zero, [], Json: false, [Size]);

    // The nodes of a test run here, not beside the bench: they load the plugins the bench's build put beside it. UCX_TLS
    // stays unset: shared memory alone (posix,cma,self) cannot carry the bulk transport's endpoints, which ask for peer
    // error handling, so UCX needs its tcp transport in the set.
    private static string[] Settings(params string[] more) =>
        [$"--Plexus:Plugins:Paths:0={Path.Combine(Path.GetDirectoryName(BenchProcess.BenchDll)!, "plugins")}", .. more];

    [Fact]
    public async Task A_short_run_moves_every_payload_by_bulk_and_measures_each_figure()
    {
        using var progress = new StringWriter();
        var report = await new BulkPathBench(Options(), Settings(), "tcp", null, new LineBenchProgress(progress)).RunAsync(CancellationToken.None);

        var point = Assert.Single(report.Points);
        Assert.Equal(Size, point.PayloadBytes);
        Assert.True(point.Bulk.Operations > 0);
        Assert.Equal(point.Bulk.Operations, point.BulkTransfers);
        Assert.Equal(point.Bulk.Operations * Size, point.Bulk.Bytes);
        Assert.True(point.Bulk.GigabytesPerSecond > 0);
        Assert.NotNull(point.Inline);
        Assert.True(point.Inline.GigabytesPerSecond > 0);
        Assert.True(point.GetGigabytesPerSecond > 0 && point.PutGigabytesPerSecond > 0);
        Assert.True(point.GetWithErrorHandlingGigabytesPerSecond > 0);
        Assert.True(point.BulkToInline > 0 && point.BulkToGet > 0 && point.BulkToPut > 0 && point.BulkToGetWithErrorHandling > 0);
        Assert.Null(report.UcxTls);
        Assert.Contains("bench: tcp+ucx bulk path 4 MiB: ", progress.ToString(), StringComparison.Ordinal);
        Assert.Contains("bench: ucx_perftest ucp_get_bw 4 MiB: ", progress.ToString(), StringComparison.Ordinal);
        Assert.Contains("bench: ucx_perftest ucp_get_bw -e 4 MiB: ", progress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_nats_with_the_benchs_own_server_the_bulk_path_carries_every_payload()
    {
        await using var nats = await BenchNatsServer.StartAsync(CancellationToken.None);
        var options = Options() with { Transport = "nats" };

        var report = await new BulkPathBench(options, Settings($"--{BenchNatsServer.UrlKey}={nats.Url}"), "nats", null, new LineBenchProgress(TextWriter.Null)).RunAsync(CancellationToken.None);

        var point = Assert.Single(report.Points);
        Assert.Equal("nats+ucx", report.BulkSubject);
        Assert.Equal(point.Bulk.Operations, point.BulkTransfers);
        Assert.True(point.Bulk.GigabytesPerSecond > 0);
        Assert.True(point.Inline?.GigabytesPerSecond > 0);
    }

    [Fact]
    public async Task A_payload_over_the_transports_limit_is_reported_as_not_possible_inline_while_bulk_carries_it()
    {
        var settings = Settings("--Plexus:Transports:Tcp:MaxPayloadBytes=1048576");

        var report = await new BulkPathBench(Options(), settings, "tcp", null, new LineBenchProgress(TextWriter.Null)).RunAsync(CancellationToken.None);

        var point = Assert.Single(report.Points);
        Assert.Null(point.Inline);
        Assert.Contains("Plexus:Transports:Tcp:MaxPayloadBytes", point.InlineUnavailable, StringComparison.Ordinal);
        Assert.Equal(point.Bulk.Operations, point.BulkTransfers);
        Assert.True(point.Bulk.GigabytesPerSecond > 0);
    }

    [Fact]
    public async Task A_bulk_run_whose_payloads_go_inline_fails_loudly()
    {
        // UCX finds no such transport: the nodes' bulk path is unavailable and every payload goes inline, counted.
        var settings = Settings("--Plexus:Bulk:Ucx:Settings:TLS=no-such-transport");

        var ex = await Assert.ThrowsAsync<BenchFailedException>(
            () => new BulkPathBench(Options(), settings, "tcp", null, new LineBenchProgress(TextWriter.Null)).RunAsync(CancellationToken.None));

        Assert.Contains("did not all move by bulk transfer", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0 bulk transfers", ex.Message, StringComparison.Ordinal);
    }
}
