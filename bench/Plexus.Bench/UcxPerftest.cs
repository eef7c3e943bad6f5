using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Plexus.Bench;

/// <summary>
/// UCX's own benchmark, <c>ucx_perftest</c> (Debian package ucx-utils), run as a server and a client over loopback: the
/// figure a transfer over UCX reaches on this machine without Plexus, next to which the bulk path is quoted.
/// </summary>
internal static class UcxPerftest
{
    private const string Tool = "ucx_perftest";
    private const string InstallFix = "install the Debian package ucx-utils ('sudo apt-get install -y ucx-utils')";
    private const string FinalPrefix = "Final:";
    private const string BandwidthHeader = "bandwidth (";
    private const int MaxExcerptChars = 300;

    // UCX prints "bandwidth (MB/s)" but divides by 2^20: 1 MiB at 29.580 us a message is printed as 33806 MB/s.
    private const double UcxMegabyte = 1024 * 1024;

    // The server's stdout is block-buffered in a pipe, so its "Waiting for connection..." only arrives when it exits:
    // the client is started again until it connects instead.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ServerExitGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs <paramref name="test"/> once between a <c>ucx_perftest</c> server and client on a free loopback port and
    /// returns the client's summary. Both processes are gone when it returns or throws.
    /// </summary>
    /// <param name="test"><c>ucp_put_bw</c> or <c>ucp_get_bw</c> (UCX 1.13 calls the latter <c>ucp_get</c>; that name is taken too).</param>
    /// <param name="messageBytes">The size of one message (<c>-s</c>).</param>
    /// <param name="iterations">Measured iterations (<c>-n</c>); a tenth of them, at least one, warm up first (<c>-w</c>).</param>
    /// <param name="ucxTls">UCX_TLS for both processes, such as <c>posix,cma,self</c>; null to leave the environment's.</param>
    /// <param name="timeout">For the whole run, start-up included.</param>
    /// <param name="cancellationToken">Cancels the run (an <see cref="OperationCanceledException"/>, not a failure).</param>
    /// <param name="errorHandling">
    /// Create the endpoints with peer error handling (<c>-e</c>), as the ucx bulk transport does: UCX then leaves out the
    /// transports that cannot report a failed peer (shared memory in UCX 1.13), so this is the same transport selection.
    /// </param>
    /// <exception cref="BenchFailedException">The tool is missing, a process failed, the output had no summary, or the run timed out.</exception>
    public static async Task<UcxPerftestResult> RunAsync(
        string test,
        long messageBytes,
        int iterations,
        string? ucxTls,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        bool errorHandling = false)
    {
        var toolTest = ToolTest(test);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messageBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var binary = FindBinary();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // A free port can be taken between probing and the server's bind; then the run starts again on another.
            for (var attempt = 1; ; attempt++)
            {
                var result = await RunOnceAsync(binary, test, toolTest, messageBytes, iterations, ucxTls, errorHandling, FreePort(), deadline.Token);
                if (result is not null)
                {
                    return result;
                }

                if (attempt == 3)
                {
                    throw new BenchFailedException($"{Tool} server could not bind a free port three times (address already in use); run the bench again.");
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchFailedException(
                $"{Tool} {toolTest} of {messageBytes} B x {iterations} did not finish within {timeout.TotalSeconds:0.###} s; raise the timeout or lower the iterations or the message size.");
        }
    }

    /// <summary>The <c>-t</c> argument for a test name.</summary>
    /// <exception cref="ArgumentException">Neither a put nor a get bandwidth test.</exception>
    internal static string ToolTest(string test) => test switch
    {
        "ucp_put_bw" => "ucp_put_bw",

        // UCX 1.13.1 rejects "ucp_get_bw" (exit 129); its get bandwidth test is "ucp_get".
        "ucp_get_bw" or "ucp_get" => "ucp_get",
        _ => throw new ArgumentException($"'{test}' is not ucp_put_bw or ucp_get_bw.", nameof(test)),
    };

    /// <summary>The client's arguments, after the program name (the server takes the test's parameters from the client).</summary>
    internal static string[] ClientArguments(int port, string toolTest, long messageBytes, int iterations, bool errorHandling = false)
    {
        string[] arguments =
        [
            "127.0.0.1",
            "-p", Invariant(port),
            "-t", toolTest,
            "-s", Invariant(messageBytes),
            "-n", Invariant(iterations),

            // The default is 10000 warm-up iterations, which at 64 MiB would copy 640 GiB before measuring.
            "-w", Invariant(Math.Max(1, iterations / 10)),

            // Host memory on both sides, as the bulk path's buffers: the default, named so that the command says it.
            "-m", "host,host",
        ];
        return errorHandling ? [.. arguments, "-e"] : arguments;
    }

    /// <summary>Reads the <c>Final:</c> line of a client's summary table.</summary>
    /// <param name="test">The test as asked for, copied to the result.</param>
    /// <param name="messageBytes">The message size, copied to the result.</param>
    /// <param name="output">What the client printed.</param>
    /// <exception cref="BenchFailedException">There is no summary line, its bandwidth is not in UCX's MB/s, or it is not a positive number.</exception>
    internal static UcxPerftestResult Parse(string test, long messageBytes, string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        string? units = null;
        string? final = null;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            var at = line.IndexOf(BandwidthHeader, StringComparison.Ordinal);
            var end = at < 0 ? -1 : line.IndexOf(')', at);
            if (end > at)
            {
                units = line[(at + BandwidthHeader.Length)..end];
            }

            // The last one: progress lines come before it, and a batch would print one per test.
            if (line.StartsWith(FinalPrefix, StringComparison.Ordinal))
            {
                final = line[FinalPrefix.Length..];
            }
        }

        if (final is null)
        {
            throw new BenchFailedException($"{Tool} printed no '{FinalPrefix}' summary line to read a bandwidth from (its output: {Excerpt(output)}); run it by hand to see why.");
        }

        if (units != "MB/s")
        {
            throw new BenchFailedException(
                $"{Tool} gave its bandwidth in '{units ?? "(no header)"}', not the MB/s (2^20 bytes) of UCX 1.13 that the bench converts; check the ucx-utils version and this parser.");
        }

        // iterations | latency 50%ile, average, overall (us) | bandwidth average, overall (MB/s) | message rate average, overall
        var fields = final.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 8 || !TryNumber(fields[5], out var megabytesPerSecond) || megabytesPerSecond <= 0)
        {
            throw new BenchFailedException($"{Tool}'s summary line '{FinalPrefix}{final}' has no positive overall bandwidth in its sixth column; run it by hand to see why.");
        }

        double? latency = TryNumber(fields[3], out var microseconds) && microseconds > 0 ? microseconds : null;
        return new UcxPerftestResult(test, messageBytes, megabytesPerSecond * UcxMegabyte, latency);
    }

    /// <summary>The UCX error lines of an output, without their timestamp and source prefix; else its last lines.</summary>
    internal static string Errors(string output)
    {
        var errors = output.Split('\n')
            .Select(line => (Line: line, At: line.IndexOf("UCX  ERROR", StringComparison.Ordinal)))
            .Where(e => e.At >= 0)
            .Select(e => e.Line[(e.At + "UCX  ERROR".Length)..].Trim());
        var text = string.Join("; ", errors);
        return text.Length > 0 ? text : Excerpt(output);
    }

    private static async Task<UcxPerftestResult?> RunOnceAsync(
        string binary,
        string test,
        string toolTest,
        long messageBytes,
        int iterations,
        string? ucxTls,
        bool errorHandling,
        int port,
        CancellationToken cancellationToken)
    {
        string[] serverArguments = ["-p", Invariant(port)];
        var clientArguments = ClientArguments(port, toolTest, messageBytes, iterations, errorHandling);
        var byHand = $"'{CommandLine(serverArguments, ucxTls)} & {CommandLine(clientArguments, ucxTls)}'";
        var serverOutput = new StringBuilder();
        Process? server = null;
        Process? client = null;
        try
        {
            server = Start(binary, serverArguments, ucxTls, serverOutput);
            var startedAt = Stopwatch.GetTimestamp();
            StringBuilder clientOutput;
            while (true)
            {
                clientOutput = new StringBuilder();
                client = Start(binary, clientArguments, ucxTls, clientOutput);
                await client.WaitForExitAsync(cancellationToken);
                if (client.ExitCode == 0)
                {
                    break;
                }

                var said = Read(clientOutput);
                if (!said.Contains("connect() failed", StringComparison.Ordinal))
                {
                    throw new BenchFailedException(
                        $"{Tool} client exited with code {client.ExitCode}: {Errors(said)}. Check that UCX_TLS='{ucxTls}' names transports this machine has ('ucx_info -d'), or run {byHand} by hand.");
                }

                if (server.HasExited)
                {
                    await server.WaitForExitAsync(cancellationToken);
                    var serverSaid = Read(serverOutput);
                    if (serverSaid.Contains("Address already in use", StringComparison.Ordinal))
                    {
                        return null;
                    }

                    throw new BenchFailedException($"{Tool} server exited with code {server.ExitCode} before the client connected: {Errors(serverSaid)}; run {byHand} by hand.");
                }

                if (Stopwatch.GetElapsedTime(startedAt) > ReadyTimeout)
                {
                    throw new BenchFailedException(
                        $"{Tool} server did not accept the client on port {port} within {ReadyTimeout.TotalSeconds:0} s: {Errors(said)}; run {byHand} by hand.");
                }

                Stop(client);
                client = null;
                await Task.Delay(RetryDelay, cancellationToken);
            }

            UcxPerftestResult result;
            try
            {
                result = Parse(test, messageBytes, Read(clientOutput));
            }
            catch (BenchFailedException ex)
            {
                throw new BenchFailedException($"{ex.Message} Command: {byHand}", ex);
            }

            // The client's figures are the result, but a server that failed on its side makes them suspect.
            using (var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                grace.CancelAfter(ServerExitGrace);
                try
                {
                    await server.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Still running after reporting: stopped below, and the client's result stands.
                }
            }

            if (server.HasExited && server.ExitCode != 0)
            {
                throw new BenchFailedException($"{Tool} server exited with code {server.ExitCode} after the run: {Errors(Read(serverOutput))}; run {byHand} by hand.");
            }

            return result;
        }
        finally
        {
            Stop(client);
            Stop(server);
        }
    }

    private static string FindBinary()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Append("/usr/bin"))
        {
            var candidate = Path.Combine(directory, Tool);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new BenchFailedException($"{Tool} not found on PATH or in /usr/bin; {InstallFix}.");
    }

    private static Process Start(string binary, string[] arguments, string? ucxTls, StringBuilder output)
    {
        var start = new ProcessStartInfo(binary, arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (ucxTls is not null)
        {
            start.Environment["UCX_TLS"] = ucxTls;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new BenchFailedException($"{binary} did not start; {InstallFix}.");
        }
        catch (Win32Exception ex)
        {
            throw new BenchFailedException($"{binary} could not be started ({ex.Message}); {InstallFix}.", ex);
        }

        // UCX logs its errors to stdout, so both streams go to one text.
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Stop(Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Read(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string Excerpt(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            return "nothing";
        }

        var text = string.Join(" | ", lines.TakeLast(4));
        return text.Length <= MaxExcerptChars ? $"'{text}'" : $"'...{text[^MaxExcerptChars..]}'";
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static string CommandLine(string[] arguments, string? ucxTls) =>
        (ucxTls is null ? string.Empty : $"UCX_TLS={ucxTls} ") + Tool + " " + string.Join(' ', arguments);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
