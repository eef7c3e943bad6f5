using System.Diagnostics;
using Plexus.Host.Tests.Support;
using Plexus.Host.Tests.Telemetry;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// Real processes and real signals: a node serving over TCP, a <c>call</c> streaming from it in another process, and
/// SIGTERM or SIGINT sent with kill(2) as <c>timeout</c>, systemd or a container runtime would.
/// </summary>
public sealed class SignalTests : IDisposable
{
    // Generous: the machine may be a busy 2-core one shared with builds.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(20);

    private readonly string _directory = Directory.CreateTempSubdirectory("plexus-signals-").FullName;

    private string[] Settings(params string[] more) =>
    [
        "--Plexus:RequestPlane:Transport=tcp",
        "--Plexus:Discovery:Provider=file",
        $"--Plexus:Discovery:File:Directory={_directory}",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        "--Plexus:Demo:TokenDelay=00:00:00.010",
        .. more,
    ];

    [Theory]
    [InlineData(Signals.SigTerm, 143)]
    [InlineData(Signals.SigInt, 130)]
    public async Task A_signal_cancels_a_streaming_call_promptly_with_the_conventional_exit_code_and_the_handler_sees_the_cancel(int signal, int exitCode)
    {
        await using var node = await NodeProcess.StartAsync(Timeout, Settings());
        // 100,000 tokens at 10 ms each: the stream would last over a quarter of an hour.
        await using var call = RunningHost.Start(["call", "demo/echo/generate", "--data", "hi", "--header", "max-tokens=100000", "--lines", .. Settings()]);
        await call.WaitForLinesAsync(5, Timeout);

        var sent = Stopwatch.StartNew();
        call.Signal(signal);
        var code = await call.WaitForExitAsync(Prompt);

        Assert.True(code == exitCode, $"Exit code {code} after signal {signal}, expected {exitCode}. Standard error:\n{call.StandardError}");
        Assert.True(sent.Elapsed < Prompt, $"Took {sent.Elapsed} to exit.");
        Assert.DoesNotContain("   at ", call.StandardError, StringComparison.Ordinal);

        // The server's handler saw the cancel: its request ended as cancelled and nothing is left in flight.
        var (cancelled, inFlight) = await WaitForServerSideAsync(node.StatusUrl, s => s.Cancelled >= 1 && s.InFlight == 0);
        Assert.Equal(1, cancelled);
        Assert.Equal(0, inFlight);
    }

    [Fact]
    public async Task A_node_drains_on_sigterm_and_logs_1105_when_the_grace_period_runs_out_with_a_request_in_flight()
    {
        await using var node = await NodeProcess.StartAsync(Timeout, Settings("--Plexus:Server:DrainTimeout=00:00:01"));
        await using var call = RunningHost.Start(["call", "demo/echo/generate", "--data", "hi", "--header", "max-tokens=100000", "--lines", .. Settings()]);
        await call.WaitForLinesAsync(5, Timeout);

        Assert.Equal(0, await node.StopAsync(Timeout));

        Assert.Contains("[1105]", node.Output, StringComparison.Ordinal);
        Assert.Contains("Plexus:Server:DrainTimeout", node.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[1104]", node.Output, StringComparison.Ordinal);
        Assert.Equal(1, await call.WaitForExitAsync(Timeout));
        Assert.Contains("error: ", call.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_that_drains_in_time_logs_1104_and_exits_0_on_sigterm()
    {
        await using var node = await NodeProcess.StartAsync(Timeout, Settings());
        var call = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", "x", .. Settings()]);
        Assert.True(call.ExitCode == 0, call.StandardError);

        Assert.Equal(0, await node.StopAsync(Timeout));

        Assert.Contains("[1104]", node.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[1105]", node.Output, StringComparison.Ordinal);
    }

    private static async Task<(double Cancelled, double InFlight)> WaitForServerSideAsync(Uri status, Func<(double Cancelled, double InFlight), bool> done)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var seen = (Cancelled: 0.0, InFlight: -1.0);
        for (var attempt = 0; attempt < 150; attempt++)
        {
            var families = PrometheusTextParser.Parse(await http.GetStringAsync(new Uri(status, "/metrics")));
            seen = (Server(families, "plexus_request_errors_total", s => s.Labels.GetValueOrDefault("code") == "cancelled"), Server(families, "plexus_requests_in_flight", _ => true));
            if (done(seen))
            {
                return seen;
            }

            await Task.Delay(200);
        }

        return seen;
    }

    private static double Server(Dictionary<string, PrometheusTextParser.Family> families, string name, Func<PrometheusTextParser.Sample, bool> match) =>
        families.TryGetValue(name, out var family)
            ? family.Samples.Where(s => s.Labels.GetValueOrDefault("side") == "server" && s.Labels.GetValueOrDefault("endpoint") == "demo/echo/generate" && match(s)).Sum(s => s.Value)
            : 0;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
