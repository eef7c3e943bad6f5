using System.Buffers;
using System.Text.Json;

namespace Plexus.Bench.Tests;

/// <summary>The bulk-path scenario's figures, table and JSON, from made-up measurements.</summary>
public sealed class BulkPathReportTests
{
    private const int Size = 64 << 20;

    private static readonly BenchEnvironment Environment = new(".NET 10.0.0", "Linux", "x64", 2, ServerGc: false);

    private static BenchReport Report(bool inlinePossible)
    {
        var options = new BenchOptions("tcp", [BenchScenario.BulkPath], [1], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), [], Json: true, [Size]);
        var second = TimeSpan.FromSeconds(1);

        // 100 x 64 MiB in a second is 6.71 GB/s; 10 x inline 0.67 GB/s.
        var bulk = new BenchMeasurement("tcp+ucx", BenchScenario.BulkPath, 1, 100, second, 0, 100L * Size, null, null, 0, TimeSpan.FromSeconds(0.64));
        var inline = new BenchMeasurement("tcp", BenchScenario.BulkPath, 1, 10, second, 0, 10L * Size, null, null, 0, TimeSpan.FromSeconds(0.32));
        var get = new UcxPerftestResult("ucp_get_bw", Size, 100L * Size / 0.5, 5000);
        var put = new UcxPerftestResult("ucp_put_bw", Size, 100L * Size / 0.25, 2500);
        var getWithErrors = new UcxPerftestResult("ucp_get_bw", Size, 100L * Size / 2, 20000);
        var point = new BulkPathPoint(Size, bulk, 100, inlinePossible ? inline : null, inlinePossible ? null : "The request payload is too large.", get, put, getWithErrors, 128);
        return new BenchReport(options, "tcp", [], [], new BulkPathReport("tcp", null, [point]));
    }

    [Fact]
    public void Ratios_divide_the_bulk_path_by_inline_and_by_ucx_perftest()
    {
        var point = Report(inlinePossible: true).BulkPath!.Points[0];

        Assert.Equal(10, point.BulkToInline!.Value, 9);
        Assert.Equal(0.5, point.BulkToGet!.Value, 9);
        Assert.Equal(0.25, point.BulkToPut!.Value, 9);
        Assert.Equal(2, point.BulkToGetWithErrorHandling!.Value, 9);
        Assert.Equal("64MiB", point.SizeKey);
        Assert.Equal("1 GiB", BulkPathPoint.Size(1 << 30, " "));
    }

    [Fact]
    public void Json_carries_the_figures_with_their_own_ratios_and_the_details()
    {
        using var stream = new MemoryStream();
        BenchJson.Write(Report(inlinePossible: true), Environment, stream);
        using var json = JsonDocument.Parse(stream.ToArray());
        var root = json.RootElement;

        Assert.Equal([Size], root.GetProperty("settings").GetProperty("bulkPathBytes").EnumerateArray().Select(e => e.GetInt32()));
        var figures = root.GetProperty("figures").EnumerateArray().ToDictionary(f => f.GetProperty("key").GetString()!);
        Assert.Equal(["bulkPath.64MiB.gigabytesPerSecond", "bulkPath.64MiB.cpuUsPerMiB"], figures.Keys);
        var speed = figures["bulkPath.64MiB.gigabytesPerSecond"];
        Assert.Equal(100.0 * Size / 1e9, speed.GetProperty("values").GetProperty("tcp+ucx").GetDouble(), 9);
        Assert.Equal(10, speed.GetProperty("ratios").GetProperty("tcp").GetDouble(), 9);
        Assert.Equal(0.5, speed.GetProperty("ratios").GetProperty("ucx_perftest ucp_get_bw").GetDouble(), 9);
        Assert.Equal(0.25, speed.GetProperty("ratios").GetProperty("ucx_perftest ucp_put_bw").GetDouble(), 9);
        Assert.Equal(2, speed.GetProperty("ratios").GetProperty("ucx_perftest ucp_get_bw -e").GetDouble(), 9);
        Assert.Equal("us", figures["bulkPath.64MiB.cpuUsPerMiB"].GetProperty("unit").GetString());

        var path = root.GetProperty("bulkPath");
        Assert.Equal("tcp", path.GetProperty("transport").GetString());
        Assert.Equal(JsonValueKind.Null, path.GetProperty("ucxTls").ValueKind);
        var size = path.GetProperty("sizes")[0];
        Assert.Equal(100, size.GetProperty("bulkTransfers").GetInt64());
        Assert.Equal(10, size.GetProperty("inline").GetProperty("operations").GetInt64());
        Assert.Equal(128, size.GetProperty("ucxPerftest").GetProperty("iterations").GetInt32());
        Assert.Equal(10, size.GetProperty("ratios").GetProperty("bulkToInline").GetDouble(), 9);
        Assert.Equal(2, size.GetProperty("ratios").GetProperty("bulkToPerftestGetWithErrorHandling").GetDouble(), 9);
    }

    [Fact]
    public void A_size_the_transport_cannot_carry_inline_says_so_in_the_table_and_the_json()
    {
        var report = Report(inlinePossible: false);
        using var text = new StringWriter();
        BenchTable.Write(report, Environment, text);
        using var stream = new MemoryStream();
        BenchJson.Write(report, Environment, stream);
        using var json = JsonDocument.Parse(stream.ToArray());

        Assert.Contains("not possible", text.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("figure", text.ToString(), StringComparison.Ordinal);
        var size = json.RootElement.GetProperty("bulkPath").GetProperty("sizes")[0];
        Assert.Equal(JsonValueKind.Null, size.GetProperty("inline").ValueKind);
        Assert.Equal("The request payload is too large.", size.GetProperty("inlineUnavailable").GetString());
        Assert.Equal(JsonValueKind.Null, size.GetProperty("ratios").GetProperty("bulkToInline").ValueKind);
    }

    [Fact]
    public void The_sink_sums_one_byte_per_page_across_segments()
    {
        var bytes = new byte[3 * BulkPathSink.PageBytes + 10];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i / BulkPathSink.PageBytes + 1);
        }

        // Cut where no page starts and right at one, as a stream transport may hand the payload over.
        var split = Segments.Of(bytes, 100, BulkPathSink.PageBytes, 2 * BulkPathSink.PageBytes + 1);

        Assert.Equal(1 + 2 + 3 + 4, BulkPathSink.SumPages(new ReadOnlySequence<byte>(bytes)));
        Assert.Equal(1 + 2 + 3 + 4, BulkPathSink.SumPages(split));
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public static ReadOnlySequence<byte> Of(byte[] bytes, params int[] cuts)
        {
            var first = new Segments(bytes.AsMemory(0, cuts[0]), 0);
            var last = first;
            for (var i = 0; i < cuts.Length; i++)
            {
                var end = i + 1 < cuts.Length ? cuts[i + 1] : bytes.Length;
                var next = new Segments(bytes.AsMemory(cuts[i], end - cuts[i]), cuts[i]);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
