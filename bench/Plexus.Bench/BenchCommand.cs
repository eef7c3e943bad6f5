using Plexus.Host.Cli;
using Spectre.Console;

namespace Plexus.Bench;

/// <summary>
/// A bench run: measures a transport's server and client in this process over loopback, and the baselines in the
/// same run, and prints each figure with its ratio to the baselines.
/// </summary>
internal static class BenchCommand
{
    /// <param name="options">What to measure.</param>
    /// <param name="configurationArgs">Configuration overrides, passed to the host that loads the transport plugins.</param>
    /// <param name="output">Where the table or the JSON goes.</param>
    /// <param name="progress">Where progress lines go.</param>
    /// <param name="cancellationToken">Stops the run (Ctrl+C).</param>
    /// <exception cref="UsageException">No transport of the given name is loaded.</exception>
    /// <exception cref="BenchFailedException">A measurement failed.</exception>
    /// <param name="interactive">Standard error and output are a terminal: show a progress bar and a drawn table.</param>
    public static async Task<int> RunAsync(BenchOptions options, IReadOnlyList<string> configurationArgs, Stream output, TextWriter progress, CancellationToken cancellationToken, bool interactive = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configurationArgs);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(progress);

        var natsTransport = string.Equals(options.Transport, BenchNames.NatsTransport, StringComparison.OrdinalIgnoreCase);
        var needsNats = natsTransport || (options.MeasuresSubjects && options.Baselines.Contains(BenchBaseline.NatsRaw));
        var host = BenchHost.Build(configurationArgs);
        var configuredNatsUrl = BenchHost.Configuration(host)[BenchNatsServer.UrlKey];
        BenchNatsServer? nats = null;
        var subjects = new List<IBenchSubject>();
        IReadOnlyList<BenchMeasurement> measurements = [];
        BulkPathReport? bulkPath = null;
        var nodeArgs = configurationArgs;
        Microsoft.Extensions.Hosting.IHost? lowLatencyHost = null;
        ITransportFactory factory;
        try
        {
            factory = BenchHost.FindTransport(host, options.Transport);
            if (needsNats)
            {
                if (string.IsNullOrWhiteSpace(configuredNatsUrl))
                {
                    // No server named: one of our own on a free loopback port, for this run only. The transport's
                    // options are bound when the host is built, so the host is built again pointing at it.
                    nats = await BenchNatsServer.StartAsync(cancellationToken);
                    await progress.WriteLineAsync($"bench: started nats-server on {nats.Url.Authority} for this run");
                    if (natsTransport)
                    {
                        host.Dispose();
                        nodeArgs = [.. configurationArgs, $"--{BenchNatsServer.UrlKey}={nats.Url}"];
                        host = BenchHost.Build(nodeArgs);
                        factory = BenchHost.FindTransport(host, options.Transport);
                    }
                }
                else
                {
                    nats = BenchNatsServer.Configured(configuredNatsUrl);
                }
            }

            // The bulk path runs nodes of its own; the subjects start only for the scenarios that measure them.
            var baselines = options.MeasuresSubjects ? options.Baselines : [];
            if (options.MeasuresSubjects)
            {
                subjects.Add(new TransportSubject(factory));
            }

            foreach (var baseline in baselines)
            {
                subjects.Add(baseline switch
                {
                    BenchBaseline.RawTcp => new RawTcpSubject(),
                    BenchBaseline.RawTcpBlocking => new RawTcpBlockingSubject(),
                    BenchBaseline.NatsRaw => new NatsRawSubject(nats!.Url),

                    // The tcp plugin from the same host (the last one built), measured as the transport under test is.
                    BenchBaseline.Tcp => new TransportSubject(BenchHost.FindTransport(host, BenchNames.Tcp, "--baseline"), BenchNames.Tcp),

                    // The same plugin in low-latency mode: its options are bound when a host is built, so from a host of its own.
                    BenchBaseline.TcpLowLatency => new TransportSubject(
                        BenchHost.FindTransport(lowLatencyHost = BenchHost.Build([.. nodeArgs, $"--{TcpLowLatencyKey}=true"]), BenchNames.Tcp, "--baseline"),
                        BenchNames.TcpLowLatency),
                    _ => new KestrelH2Subject(),
                });
            }

            foreach (var subject in subjects)
            {
                await StartAsync(subject, cancellationToken);
            }

            // The nodes' UCX settings are the reference's too: ucx_perftest runs with the same UCX_TLS.
            var ucxTls = BenchHost.Configuration(host)[UcxTlsKey];
            if (interactive)
            {
                var console = BenchConsole.For(progress);
                await console.Progress()
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async context =>
                    {
                        var task = context.AddTask("starting", maxValue: BenchRunner.CountMeasurements(options, subjects.Count) + BulkPathBench.CountMeasurements(options));
                        (measurements, bulkPath) = await MeasureAsync(options, subjects, nodeArgs, factory.Name, ucxTls, new BarBenchProgress(task), cancellationToken);
                    });
            }
            else
            {
                (measurements, bulkPath) = await MeasureAsync(options, subjects, nodeArgs, factory.Name, ucxTls, new LineBenchProgress(progress), cancellationToken);
            }
        }
        finally
        {
            foreach (var subject in subjects)
            {
                await subject.DisposeAsync();
            }

            if (nats is not null)
            {
                await nats.DisposeAsync();
            }

            lowLatencyHost?.Dispose();
            host.Dispose();
        }

        var report = new BenchReport(options, factory.Name, options.MeasuresSubjects ? [.. options.Baselines.Select(BenchNames.Of)] : [], measurements, bulkPath);
        if (options.Json)
        {
            BenchJson.Write(report, BenchEnvironment.Current, output);
            output.WriteByte((byte)'\n');
        }
        else
        {
            using var text = new StreamWriter(output, leaveOpen: true);
            if (interactive)
            {
                BenchTable.WriteRich(report, BenchEnvironment.Current, BenchConsole.For(text));
            }
            else
            {
                BenchTable.Write(report, BenchEnvironment.Current, text);
            }
        }

        await output.FlushAsync(CancellationToken.None);
        return ExitCodes.Ok;
    }

    /// <summary>The setting the <c>tcp-lowlatency</c> baseline's host turns on.</summary>
    public const string TcpLowLatencyKey = "Plexus:Transports:Tcp:LowLatency";

    /// <summary>The nodes' UCX transports, given to ucx_perftest as UCX_TLS.</summary>
    public const string UcxTlsKey = "Plexus:Bulk:Ucx:Settings:TLS";

    private static async Task<(IReadOnlyList<BenchMeasurement> Measurements, BulkPathReport? BulkPath)> MeasureAsync(
        BenchOptions options,
        List<IBenchSubject> subjects,
        IReadOnlyList<string> nodeArgs,
        string transport,
        string? ucxTls,
        IBenchProgress progress,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<BenchMeasurement> measurements = subjects.Count > 0 ? await new BenchRunner(options, progress).RunAsync(subjects, cancellationToken) : [];
        var bulkPath = options.Scenarios.Contains(BenchScenario.BulkPath)
            ? await new BulkPathBench(options, nodeArgs, transport, ucxTls, progress).RunAsync(cancellationToken)
            : null;
        return (measurements, bulkPath);
    }

    /// <summary>How long a subject may take to start listening before the run gives up on it.</summary>
    public static TimeSpan StartTimeout { get; } = TimeSpan.FromSeconds(30);

    private static async Task StartAsync(IBenchSubject subject, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(StartTimeout);
        try
        {
            await subject.StartAsync(limit.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchFailedException($"{subject.Name} did not start within {StartTimeout.TotalSeconds:0} s.", ex);
        }
        catch (Exception ex) when (ex is PlexusException or IOException or System.Net.Sockets.SocketException)
        {
            throw new BenchFailedException($"{subject.Name} could not start: {ex.Message}", ex);
        }
    }
}
