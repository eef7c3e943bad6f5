using System.Globalization;

namespace Plexus.Bench.Tests;

/// <summary>UCX's own ucx_perftest (ucx-utils 1.13.1), the reference the bulk path is compared with.</summary>
[Collection(UcxMeasurementsCollection.Name)]
public sealed class UcxPerftestTests
{
    private const long Mebibyte = 1024 * 1024;

    // Shared memory transports; tcp,self works too, but is slow enough at 64 MiB to time tests out.
    private const string SharedMemory = "posix,cma,self";

    // Captured from: UCX_TLS=posix,sysv,cma,self ucx_perftest 127.0.0.1 -p 23456 -t ucp_put_bw -s 1048576 -n 1000 -w 10
    private const string PutSample = """
        +--------------+--------------+------------------------------+---------------------+-----------------------+
        |              |              |       overhead (usec)        |   bandwidth (MB/s)  |  message rate (msg/s) |
        +--------------+--------------+----------+---------+---------+----------+----------+-----------+-----------+
        |    Stage     | # iterations | 50.0%ile | average | overall |  average |  overall |  average  |  overall  |
        +--------------+--------------+----------+---------+---------+----------+----------+-----------+-----------+
        Final:                  1000     23.653    29.580    29.580    33806.49   33806.49       33806       33806

        """;

    // Captured from: UCX_TLS=tcp,self ucx_perftest 127.0.0.1 -p 23482 -t ucp_get -s 67108864 -n 20 -w 2 -m host,host
    // (one progress line a second before the final one).
    private const string GetSampleWithProgress = """
        +--------------+--------------+------------------------------+---------------------+-----------------------+
        |              |              |        latency (usec)        |   bandwidth (MB/s)  |  message rate (msg/s) |
        +--------------+--------------+----------+---------+---------+----------+----------+-----------+-----------+
        |    Stage     | # iterations | 50.0%ile | average | overall |  average |  overall |  average  |  overall  |
        +--------------+--------------+----------+---------+---------+----------+----------+-----------+-----------+
        [thread 0]                 5 249107.062 215872.002 215872.002      296.47     296.47           5           5
        [thread 0]                 9 264296.011 255351.245 233418.332      250.64     274.19           4           4
        [thread 0]                13 269245.700 261588.216 242085.989      244.66     264.37           4           4
        [thread 0]                17 264296.011 250235.498 244003.520      255.76     262.29           4           4
        Final:                    20 249107.062 337455.352 258021.295      189.65     248.04           3           4

        """;

    // Captured from a client run with UCX_TLS=bogus: the header, then UCX's errors on stdout, and no summary.
    private const string FailedSample = """
        +--------------+--------------+------------------------------+---------------------+-----------------------+
        |              |              |       overhead (usec)        |   bandwidth (MB/s)  |  message rate (msg/s) |
        +--------------+--------------+----------+---------+---------+----------+----------+-----------+-----------+
        |    Stage     | # iterations | 50.0%ile | average | overall |  average |  overall |  average  |  overall  |
        +--------------+--------------+----------+---------+---------+----------+----------+-----------+-----------+
        [1795804987.135735] [vm:8284 :0]     ucp_context.c:1014 UCX  WARN  transport 'bogus' is not available, please use one or more of: cma, mm, posix, self, shm, sm, sysv, tcp
        [1795804987.135748] [vm:8284 :0]     ucp_context.c:1276 UCX  ERROR no usable transports/devices (asked bogus on all devices)
        [1795804987.135811] [vm:8284 :0]    perftest_run.c:334  UCX  ERROR Failed to run test: No such device

        """;

    [Fact]
    public void The_final_line_gives_the_overall_bandwidth_in_mebibytes_per_second()
    {
        var result = UcxPerftest.Parse("ucp_put_bw", Mebibyte, PutSample);

        Assert.Equal(new UcxPerftestResult("ucp_put_bw", Mebibyte, 33806.49 * Mebibyte, 29.580), result);

        // UCX's "MB/s" is 2^20 bytes: one MiB every 29.580 us agrees with it, and would be 4.9 % off in 10^6 bytes.
        var fromLatency = Mebibyte / 29.580e-6;
        Assert.InRange(result.BytesPerSecond / fromLatency, 0.9999, 1.0001);
    }

    [Fact]
    public void Progress_lines_are_skipped_and_the_overall_columns_are_read()
    {
        var result = UcxPerftest.Parse("ucp_get_bw", 64 * Mebibyte, GetSampleWithProgress);

        Assert.Equal(248.04 * Mebibyte, result.BytesPerSecond);
        Assert.Equal(258021.295, result.LatencyMicroseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Segmentation fault\n")]
    [InlineData(FailedSample)]
    public void Output_without_a_summary_line_fails_naming_it(string output)
    {
        var ex = Assert.Throws<BenchFailedException>(() => UcxPerftest.Parse("ucp_put_bw", Mebibyte, output));

        Assert.Contains("no 'Final:' summary line", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void A_summary_line_without_a_bandwidth_fails_naming_it()
    {
        var output = PutSample.Replace("33806.49   33806.49", "33806.49   garbage", StringComparison.Ordinal);

        var ex = Assert.Throws<BenchFailedException>(() => UcxPerftest.Parse("ucp_put_bw", Mebibyte, output));

        Assert.Contains("no positive overall bandwidth", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bandwidth_in_other_units_fails_rather_than_being_misread()
    {
        var output = PutSample.Replace("bandwidth (MB/s) ", "bandwidth (GB/s) ", StringComparison.Ordinal);

        var ex = Assert.Throws<BenchFailedException>(() => UcxPerftest.Parse("ucp_put_bw", Mebibyte, output));

        Assert.Contains("'GB/s'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UCX_errors_are_read_without_their_prefixes() =>
        Assert.Equal(
            "no usable transports/devices (asked bogus on all devices); Failed to run test: No such device",
            UcxPerftest.Errors(FailedSample));

    [Fact]
    public void The_client_names_every_parameter_and_a_get_is_ucx_1_13s_ucp_get()
    {
        var arguments = UcxPerftest.ClientArguments(4242, UcxPerftest.ToolTest("ucp_get_bw"), 64 * Mebibyte, 50);

        Assert.Equal("127.0.0.1 -p 4242 -t ucp_get -s 67108864 -n 50 -w 5 -m host,host", string.Join(' ', arguments));
        Assert.Equal("ucp_put_bw", UcxPerftest.ToolTest("ucp_put_bw"));
        Assert.Throws<ArgumentException>(() => UcxPerftest.ToolTest("tag_bw"));
    }

    [Fact]
    public void With_error_handling_the_client_asks_for_endpoints_that_have_it() =>
        Assert.Equal(
            "127.0.0.1 -p 4242 -t ucp_get -s 4194304 -n 200 -w 20 -m host,host -e",
            string.Join(' ', UcxPerftest.ClientArguments(4242, "ucp_get", 4 * Mebibyte, 200, errorHandling: true)));

    [Theory]
    [InlineData("ucp_put_bw")]
    [InlineData("ucp_get_bw")]
    public async Task A_real_run_over_shared_memory_returns_a_positive_bandwidth(string test)
    {
        var result = await UcxPerftest.RunAsync(test, Mebibyte, 200, SharedMemory, TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Equal(test, result.Test);
        Assert.Equal(Mebibyte, result.MessageBytes);
        Assert.True(result.BytesPerSecond > 0, result.BytesPerSecond.ToString(CultureInfo.InvariantCulture));
        Assert.True(result.LatencyMicroseconds > 0);
        Assert.Empty(PerftestChildren());
    }

    [Fact]
    public async Task A_transport_UCX_does_not_have_fails_with_its_error_and_leaves_no_process()
    {
        var ex = await Assert.ThrowsAsync<BenchFailedException>(
            () => UcxPerftest.RunAsync("ucp_put_bw", Mebibyte, 10, "bogus", TimeSpan.FromSeconds(60), CancellationToken.None));

        Assert.Contains("no usable transports/devices", ex.Message, StringComparison.Ordinal);
        Assert.Contains("UCX_TLS='bogus'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(PerftestChildren());
    }

    [Fact]
    public async Task A_run_past_its_timeout_fails_naming_it_and_leaves_no_process()
    {
        var ex = await Assert.ThrowsAsync<BenchFailedException>(
            () => UcxPerftest.RunAsync("ucp_put_bw", 64 * Mebibyte, 1_000_000, SharedMemory, TimeSpan.FromSeconds(2), CancellationToken.None));

        Assert.Contains("did not finish within 2 s", ex.Message, StringComparison.Ordinal);
        Assert.Empty(PerftestChildren());
    }

    // The ucx_perftest processes whose parent is this test process, from /proc/<pid>/stat: "pid (comm) state ppid ...".
    private static List<int> PerftestChildren()
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            var rest = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (open >= 0 && close > open && stat[(open + 1)..close] == "ucx_perftest" && rest.Length > 1 && rest[1] == Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            {
                children.Add(pid);
            }
        }

        return children;
    }
}
