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
        var serving = options.Scenarios.Contains(BenchScenario.Serving);
        var runDefaults = serving ? ServingDefaults(options.ServingSettings) : null;
        var host = BenchHost.Build(configurationArgs, runDefaults);
        var configuredNatsUrl = BenchHost.Configuration(host)[BenchNatsServer.UrlKey];
        BenchNatsServer? nats = null;
        var subjects = new List<IBenchSubject>();
        IReadOnlyList<BenchMeasurement> measurements = [];
        BulkPathReport? bulkPath = null;
        ServingReport? servingReport = null;
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
                        host = BenchHost.Build(nodeArgs, runDefaults);
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
            var configuration = BenchHost.Configuration(host);
            if (options.MeasuresSubjects)
            {
                subjects.Add(new TransportSubject(factory, servingNote: serving ? ServingNote(factory.Name, configuration, options.ServingSettings) ?? NatsServingNote(natsTransport, nats) : null));
            }

            foreach (var baseline in baselines)
            {
                subjects.Add(baseline switch
                {
                    BenchBaseline.RawTcp => new RawTcpSubject(),
                    BenchBaseline.RawTcpBlocking => new RawTcpBlockingSubject(),
                    BenchBaseline.NatsRaw => new NatsRawSubject(nats!.Url),

                    // The tcp plugin from the same host (the last one built), measured as the transport under test is.
                    BenchBaseline.Tcp => new TransportSubject(BenchHost.FindTransport(host, BenchNames.Tcp, "--baseline"), BenchNames.Tcp, serving ? ServingNote(BenchNames.Tcp, configuration, options.ServingSettings) : null),

                    // The same plugin in low-latency mode: its options are bound when a host is built, so from a host of its own.
                    BenchBaseline.TcpLowLatency => new TransportSubject(
                        BenchHost.FindTransport(lowLatencyHost = BenchHost.Build([.. nodeArgs, $"--{TcpLowLatencyKey}=true"], runDefaults), BenchNames.Tcp, "--baseline"),
                        BenchNames.TcpLowLatency,
                        serving ? ServingNote(BenchNames.Tcp, configuration, options.ServingSettings) : null),
                    _ => new KestrelH2Subject(serving ? options.ServingSettings.MaxStreamsPerConnection : KestrelH2Subject.DefaultMaxStreamsPerConnection),
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
                        var task = context.AddTask("starting", maxValue: BenchRunner.CountMeasurements(options, subjects.Count) + BulkPathBench.CountMeasurements(options) + ServingBench.CountMeasurements(options, subjects.Count));
                        (measurements, bulkPath, servingReport) = await MeasureAsync(options, subjects, nodeArgs, factory.Name, ucxTls, nats, new BarBenchProgress(task), cancellationToken);
                    });
            }
            else
            {
                (measurements, bulkPath, servingReport) = await MeasureAsync(options, subjects, nodeArgs, factory.Name, ucxTls, nats, new LineBenchProgress(progress), cancellationToken);
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

        var report = new BenchReport(options, factory.Name, options.MeasuresSubjects ? [.. options.Baselines.Select(BenchNames.Of)] : [], measurements, bulkPath, servingReport);
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

    private static async Task<(IReadOnlyList<BenchMeasurement> Measurements, BulkPathReport? BulkPath, ServingReport? Serving)> MeasureAsync(
        BenchOptions options,
        List<IBenchSubject> subjects,
        IReadOnlyList<string> nodeArgs,
        string transport,
        string? ucxTls,
        BenchNatsServer? nats,
        IBenchProgress progress,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<BenchMeasurement> measurements = subjects.Count > 0 ? await new BenchRunner(options, progress).RunAsync(subjects, cancellationToken) : [];
        ServingReport? serving = null;
        if (options.Scenarios.Contains(BenchScenario.Serving) && subjects.Count > 0)
        {
            // The nats-server carries every token of the NATS subjects: its CPU time counts with theirs when the bench
            // started it (and so can read it).
            var natsTransport = string.Equals(transport, BenchNames.NatsTransport, StringComparison.OrdinalIgnoreCase);
            serving = await new ServingBench(options, progress, name => (name == BenchNames.NatsRaw || (natsTransport && name == transport)) && nats?.ProcessorTime is { } cpu ? cpu : TimeSpan.Zero)
                .RunAsync(subjects, cancellationToken);
        }

        var bulkPath = options.Scenarios.Contains(BenchScenario.BulkPath)
            ? await new BulkPathBench(options, nodeArgs, transport, ucxTls, progress).RunAsync(cancellationToken)
            : null;
        return (measurements, bulkPath, serving);
    }

    /// <summary>The transports that refuse more concurrent requests per connection than their MaxConcurrentStreams setting.</summary>
    private static readonly string[] StreamCappedTransports = ["Tcp", "Quic"];

    /// <summary>Both transports' own default of MaxConcurrentStreams.</summary>
    private const int TransportMaxConcurrentStreams = 4096;

    private static string MaxConcurrentStreamsKey(string section) => $"Plexus:Transports:{section}:MaxConcurrentStreams";

    /// <summary>
    /// Settings the serving scenario needs under the user's: the tcp and quic transports refuse more than 4,096 open
    /// requests per connection by default, fewer than the scenario may put on one.
    /// </summary>
    private static Dictionary<string, string?>? ServingDefaults(ServingSettings settings)
    {
        var most = settings.MaxStreamsPerConnection;
        if (most <= TransportMaxConcurrentStreams)
        {
            return null;
        }

        var defaults = new Dictionary<string, string?>();
        foreach (var section in StreamCappedTransports)
        {
            defaults[MaxConcurrentStreamsKey(section)] = most.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return defaults;
    }

    /// <summary>What the run set in the transport's settings for the serving scenario, said in the output.</summary>
    private static string? ServingNote(string transport, Microsoft.Extensions.Configuration.IConfiguration configuration, ServingSettings settings)
    {
        var most = settings.MaxStreamsPerConnection;
        foreach (var section in StreamCappedTransports)
        {
            if (string.Equals(section, transport, StringComparison.OrdinalIgnoreCase) && most > TransportMaxConcurrentStreams)
            {
                var key = MaxConcurrentStreamsKey(section);
                var value = configuration[key];
                return int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var set) && set < most
                    ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{key} is {value} on the command line, fewer than the {most:N0} streams this run puts on one connection: the others are refused as Overloaded.")
                    : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{key} is {value} for this run (the transport's default is {TransportMaxConcurrentStreams:N0}), so that {most:N0} streams fit on one connection; set it on the command line to change it.");
            }
        }

        return null;
    }

    /// <summary>Whose CPU time the nats transport's serving figure counts: the nats-server carries every token.</summary>
    private static string? NatsServingNote(bool natsTransport, BenchNatsServer? nats) => !natsTransport
        ? null
        : nats is { Started: true }
            ? "CPU per token includes the nats-server's, a process of its own started for this run, which carries every token."
            : "CPU per token does not include the nats-server's, which carries every token: the bench did not start it and cannot read it.";

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
