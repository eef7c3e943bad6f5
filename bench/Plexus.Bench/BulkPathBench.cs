using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Plexus.Bench;

/// <summary>
/// The bulk-path scenario: two nodes of the library in this process (one serving <see cref="BulkPathSink"/>, one
/// calling it), sequential calls with large payloads, with the bulk path on (<c>Plexus:Bulk:Transport=ucx</c> on both
/// nodes) and off (the same transport inline), and UCX's own ucx_perftest at the same sizes and UCX_TLS, back to back
/// for each size.
/// </summary>
internal sealed class BulkPathBench
{
    /// <summary>ucx_perftest moves about this much per run (between 5 and 200 iterations): 128 x 64 MiB, 8 x 1 GiB.</summary>
    private const long PerftestBytes = 8L << 30;

    private static readonly TimeSpan PerftestTimeout = TimeSpan.FromMinutes(3);

    private static readonly EndpointAddress Sink = EndpointAddress.Parse(BulkPathSink.Endpoint);

    private readonly BenchOptions _options;
    private readonly IReadOnlyList<string> _configurationArgs;
    private readonly string _transport;
    private readonly string? _ucxTls;
    private readonly IBenchProgress _progress;

    /// <param name="options">The sizes, the warm-up and the duration of each node measurement.</param>
    /// <param name="configurationArgs">The bench's command-line configuration, given to both nodes.</param>
    /// <param name="transport">The stream transport both nodes use (a loaded one).</param>
    /// <param name="ucxTls">The nodes' <c>Plexus:Bulk:Ucx:Settings:TLS</c>, given to ucx_perftest as UCX_TLS; null leaves UCX_TLS as the environment has it for both.</param>
    /// <param name="progress">Where each measurement is reported.</param>
    public BulkPathBench(BenchOptions options, IReadOnlyList<string> configurationArgs, string transport, string? ucxTls, IBenchProgress progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configurationArgs);
        ArgumentNullException.ThrowIfNull(progress);
        _options = options;
        _configurationArgs = configurationArgs;
        _transport = transport;
        _ucxTls = string.IsNullOrWhiteSpace(ucxTls) ? null : ucxTls;
        _progress = progress;
    }

    /// <summary>How many measurements the scenario makes: per size, the bulk path, inline, and ucx_perftest get, put and get -e.</summary>
    public static int CountMeasurements(BenchOptions options) =>
        options.Scenarios.Contains(BenchScenario.BulkPath) ? options.PayloadSizes.Count * 5 : 0;

    /// <summary>How long one call may take beyond the planned time before the measurement is declared hung.</summary>
    private static TimeSpan CallGrace { get; } = TimeSpan.FromSeconds(60);

    /// <exception cref="BenchFailedException">A node failed, answered wrongly, hung, or moved a "bulk" payload inline.</exception>
    public async Task<BulkPathReport> RunAsync(CancellationToken cancellationToken)
    {
        var largest = 0;
        foreach (var size in _options.PayloadSizes)
        {
            largest = Math.Max(largest, size);
        }

        // One payload for every size (each call sends a prefix of it), made before any clock runs. Random bytes, so
        // that the sink's sum of one byte per page checks that every page arrived.
        var payload = GC.AllocateUninitializedArray<byte>(largest);
        new Random(11).NextBytes(payload);

        var points = new List<BulkPathPoint>();
        foreach (var size in _options.PayloadSizes)
        {
            var sent = new ReadOnlySequence<byte>(payload, 0, size);
            var expected = BulkPathSink.SumPages(sent);
            var inline = await MeasureNodesAsync(bulk: false, size, sent, expected, largest, cancellationToken);
            var bulk = await MeasureNodesAsync(bulk: true, size, sent, expected, largest, cancellationToken);
            var iterations = (int)Math.Clamp(PerftestBytes / size, 5, 200);
            var get = await PerftestAsync("ucp_get_bw", size, iterations, cancellationToken);
            var put = await PerftestAsync("ucp_put_bw", size, iterations, cancellationToken);

            // With Plexus:Bulk:Ucx:PeerErrorHandling=true the bulk transport's endpoints ask for peer error handling, which
            // makes UCX 1.13 leave out its shared-memory transports; this get is made the same way, for that setting.
            // (No put: over UCX's tcp a large put with error handling stalls for seconds, and the bulk path only gets.)
            var getWithErrors = await PerftestAsync("ucp_get_bw", size, iterations, cancellationToken, errorHandling: true);
            points.Add(new BulkPathPoint(size, bulk.Measurement!, bulk.Transfers, inline.Measurement, inline.Unavailable, get, put, getWithErrors, iterations));
        }

        return new BulkPathReport(_transport, _ucxTls, points);
    }

    private async Task<NodesResult> MeasureNodesAsync(bool bulk, int size, ReadOnlySequence<byte> payload, long expected, int largest, CancellationToken cancellationToken)
    {
        var subject = bulk ? $"{_transport}+ucx" : _transport;
        var what = $"{subject} {(bulk ? "bulk path" : "inline")} {BulkPathPoint.Size(size, " ")}";
        var budget = _options.Warmup + _options.Duration + CallGrace;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(budget);
        await _progress.StartedAsync(what);
        var discovery = Directory.CreateTempSubdirectory("plexus-bench-bulk-");
        try
        {
            var result = await RunNodesAsync(bulk, subject, size, payload, expected, largest, discovery.FullName, limit.Token);
            await _progress.FinishedAsync(what, Describe(result));
            return result;
        }
        catch (Exception ex) when (ex is not BenchFailedException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The bench was cancelled.", ex, cancellationToken);
            }

            if (limit.IsCancellationRequested)
            {
                throw new BenchFailedException($"{what} did not finish within {budget.TotalSeconds:0.#}s (warm-up, duration and {CallGrace.TotalSeconds:0}s for the last call): it hangs or is far slower than expected.", ex);
            }

            if (ex is PlexusException or IOException or SocketException or InvalidDataException or InvalidOperationException)
            {
                throw new BenchFailedException($"{what} failed: {ex.GetType().Name}: {ex.Message}", ex);
            }

            throw;
        }
        finally
        {
            try
            {
                discovery.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A registration file still being written as the node left; the temporary directory is only litter.
            }
        }
    }

    private async Task<NodesResult> RunNodesAsync(bool bulk, string subject, int size, ReadOnlySequence<byte> payload, long expected, int largest, string discovery, CancellationToken cancellationToken)
    {
        await using var server = await BulkPathNode.StartAsync(_configurationArgs, Defaults(discovery, largest), Forced(bulk), serves: true, cancellationToken);
        await using var caller = await BulkPathNode.StartAsync(_configurationArgs, Defaults(discovery, largest), Forced(bulk), serves: false, cancellationToken);
        using var counter = new BulkTransferCounter(server.Meters, caller.Meters);
        var client = caller.Client;
        try
        {
            // At least one call unmeasured, whatever the warm-up: the first finds the server through discovery and
            // fills the nodes' pools of registered buffers, which the steady state reuses.
            await RepeatAsync(client, subject, payload, expected, _options.Warmup, cancellationToken);
        }
        catch (PlexusException ex) when (!bulk && ex.Code == PlexusErrorCode.PayloadTooLarge)
        {
            // A transport that cannot carry the payload inline at all: the table says so instead of failing the run.
            return new NodesResult(null, 0, ex.Message);
        }

        Settle();
        var before = counter.Read();
        var cpu = Environment.CpuUsage.TotalTime;
        var (operations, elapsed) = await RepeatAsync(client, subject, payload, expected, _options.Duration, cancellationToken);
        cpu = Environment.CpuUsage.TotalTime - cpu;
        var counted = counter.Read() - before;
        Verify(bulk, subject, size, operations, counted);
        var measurement = new BenchMeasurement(subject, BenchScenario.BulkPath, 1, operations, elapsed, 0, operations * size, null, null, 0, cpu);
        return new NodesResult(measurement, counted.Transfers, null);
    }

    /// <summary>Sequential calls, each checked, for at least <paramref name="duration"/> and at least one call.</summary>
    private static async Task<(long Operations, TimeSpan Elapsed)> RepeatAsync(IPlexusClient client, string subject, ReadOnlySequence<byte> payload, long expected, TimeSpan duration, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long operations = 0;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            await CallOnceAsync(client, subject, payload, expected, cancellationToken);
            operations++;
        }
        while (Stopwatch.GetTimestamp() < deadline);

        return (operations, Stopwatch.GetElapsedTime(start));
    }

    private static async Task CallOnceAsync(IPlexusClient client, string subject, ReadOnlySequence<byte> payload, long expected, CancellationToken cancellationToken)
    {
        await using var responses = await client.CallAsync(Sink, payload, null, cancellationToken);
        if (!await responses.MoveNextAsync(cancellationToken) || responses.Current.Length != BulkPathSink.AnswerBytes)
        {
            throw new BenchFailedException($"{subject} bulk path: the sink did not answer with one {BulkPathSink.AnswerBytes}-byte message.");
        }

        Span<byte> answer = stackalloc byte[BulkPathSink.AnswerBytes];
        responses.Current.CopyTo(answer);
        var sum = BinaryPrimitives.ReadInt64LittleEndian(answer);
        if (sum != expected)
        {
            throw new BenchFailedException($"{subject} bulk path: the sink read other bytes than were sent (page sum {sum}, sent {expected}).");
        }

        if (await responses.MoveNextAsync(cancellationToken))
        {
            throw new BenchFailedException($"{subject} bulk path: the sink sent more than its answer.");
        }
    }

    /// <summary>A bulk run must have moved every payload by bulk transfer, and an inline run none.</summary>
    private static void Verify(bool bulk, string subject, int size, long operations, BulkCounts counted)
    {
        if (bulk && (counted.Transfers != operations || counted.BulkBytes != operations * size || counted.FailedTransfers != 0 || counted.Fallbacks != 0))
        {
            throw new BenchFailedException(
                $"{subject}: {operations} calls with the bulk path on, but the nodes counted {counted.Transfers} bulk transfers ({counted.BulkBytes} bytes), "
                + $"{counted.FailedTransfers} failed transfers and {counted.Fallbacks} payloads sent inline (plexus.bulk.*). The payloads did not all move by bulk transfer: "
                + "check the nodes' warnings above (UCX unavailable, no common UCX transport) and Plexus:Bulk:Threshold.");
        }

        if (!bulk && counted.Transfers != 0)
        {
            throw new BenchFailedException($"{subject}: the bulk path is off, yet the nodes counted {counted.Transfers} bulk transfers.");
        }
    }

    private async Task<UcxPerftestResult> PerftestAsync(string test, int size, int iterations, CancellationToken cancellationToken, bool errorHandling = false)
    {
        var what = $"ucx_perftest {test}{(errorHandling ? " -e" : string.Empty)} {BulkPathPoint.Size(size, " ")}";
        await _progress.StartedAsync(what);
        var result = await UcxPerftest.RunAsync(test, size, iterations, _ucxTls, PerftestTimeout, cancellationToken, errorHandling);
        await _progress.FinishedAsync(what, string.Create(
            CultureInfo.InvariantCulture,
            $"{result.BytesPerSecond / 1e9:0.00} GB/s ({iterations} iterations, UCX_TLS {_ucxTls ?? "unset"})"));
        return result;
    }

    /// <summary>
    /// Settings under the command line: file discovery in a directory of this measurement, the request-plane
    /// transport under test on loopback, its payload limit raised to the largest size, and a pool of registered
    /// buffers that keeps one of the largest size (the default 256 MiB releases a 1 GiB buffer after every call).
    /// </summary>
    private Dictionary<string, string?> Defaults(string discovery, int largest)
    {
        var poolBytes = Math.Max(256L << 20, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)largest));
        var payloadLimit = Math.Max(256L << 20, largest).ToString(CultureInfo.InvariantCulture);
        var defaults = new Dictionary<string, string?>(BenchHost.Defaults)
        {
            ["Plexus:RequestPlane:Transport"] = _transport,
            ["Plexus:Discovery:Provider"] = "file",
            ["Plexus:Discovery:File:Directory"] = discovery,
            ["Plexus:Bulk:PoolBytes"] = poolBytes.ToString(CultureInfo.InvariantCulture),
            [$"Plexus:Transports:{_transport}:MaxPayloadBytes"] = payloadLimit,
        };
        return defaults;
    }

    /// <summary>Over everything: whether the bulk path is on is what the measurement is about.</summary>
    private static Dictionary<string, string?> Forced(bool bulk) => new()
    {
        ["Plexus:Bulk:Transport"] = bulk ? "ucx" : string.Empty,
    };

    private static string Describe(NodesResult result) => result.Measurement is { } m
        ? string.Create(CultureInfo.InvariantCulture, $"{m.GigabytesPerSecond:0.00} GB/s, {m.CpuMicrosecondsPerMebibyte:N0} µs CPU per MiB ({m.Operations:N0} calls, {result.Transfers:N0} bulk transfers)")
        : $"not possible inline: {result.Unavailable}";

    // Garbage from set-up and warm-up is collected before the clock starts, not during the measurement.
    private static void Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
    }

    private sealed record NodesResult(BenchMeasurement? Measurement, long Transfers, string? Unavailable);
}
