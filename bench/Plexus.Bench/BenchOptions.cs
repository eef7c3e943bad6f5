using Plexus.Host.Cli;
using System.Globalization;

namespace Plexus.Bench;

/// <summary>What a bench run measures, read from its command line.</summary>
internal sealed record BenchOptions(
    string Transport,
    IReadOnlyList<BenchScenario> Scenarios,
    IReadOnlyList<int> Concurrencies,
    TimeSpan Duration,
    TimeSpan Warmup,
    IReadOnlyList<BenchBaseline> Baselines,
    bool Json,
    IReadOnlyList<int>? BulkPathSizes = null,
    ServingSettings? Serving = null)
{
    public const string DefaultTransport = BenchNames.Tcp;

    /// <summary>More concurrent callers than this is not a loopback benchmark any more, and raw-tcp would open as many sockets.</summary>
    public const int MaxConcurrency = 1024;

    public static TimeSpan DefaultDuration { get; } = TimeSpan.FromSeconds(10);

    public static TimeSpan DefaultWarmup { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Longer than this is almost certainly a typo; the run is meant to be minutes, not hours.</summary>
    public static TimeSpan MaxDuration { get; } = TimeSpan.FromMinutes(10);

    public static IReadOnlyList<int> DefaultConcurrencies { get; } = [1, 64];

    /// <summary>The payload sizes of the bulk-path scenario: 64 MiB and 1 GiB (the bulk path's largest by default).</summary>
    public static IReadOnlyList<int> DefaultBulkPathSizes { get; } = [64 << 20, 1 << 30];

    /// <summary>The payload sizes the bulk-path scenario measures; tests give smaller ones.</summary>
    public IReadOnlyList<int> PayloadSizes => BulkPathSizes ?? DefaultBulkPathSizes;

    /// <summary>The serving scenario's workload: as given, or the defaults.</summary>
    public ServingSettings ServingSettings => Serving ?? ServingSettings.Default;

    /// <summary>Whether a scenario that measures the subjects (the transport and its baselines) is chosen.</summary>
    public bool MeasuresSubjects
    {
        get
        {
            foreach (var scenario in Scenarios)
            {
                if (scenario != BenchScenario.BulkPath)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <exception cref="UsageException">An option is unknown or its value is wrong.</exception>
    public static BenchOptions Parse(BenchArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        args.Allow("transport", "scenario", "concurrency", "duration", "warmup", "baseline", "json", "streams", "connections", "tokens", "token-rate", "token-bytes");
        if (args.Positional.Count > 0)
        {
            throw new UsageException($"The bench takes no arguments, only options; got '{args.Positional[0]}'.");
        }

        var transport = args.Value("transport") ?? DefaultTransport;
        if (string.IsNullOrWhiteSpace(transport))
        {
            throw new UsageException("--transport needs the name of a loaded transport, such as tcp or memory.");
        }

        transport = transport.Trim();
        var scenarios = ParseScenarios(args.Values("scenario"));
        return new BenchOptions(
            transport,
            scenarios,
            ParseConcurrencies(args.Values("concurrency")),
            ParseDuration("duration", args.Value("duration"), DefaultDuration, allowZero: false),
            ParseDuration("warmup", args.Value("warmup"), DefaultWarmup, allowZero: true),
            ParseBaselines(args.Values("baseline"), transport),
            args.Has("json"),
            Serving: ParseServing(args, scenarios.Contains(BenchScenario.Serving)));
    }

    private static readonly string[] ServingOptions = ["streams", "connections", "tokens", "token-rate", "token-bytes"];

    private static ServingSettings? ParseServing(BenchArguments args, bool serving)
    {
        if (!serving)
        {
            foreach (var option in ServingOptions)
            {
                if (args.Has(option))
                {
                    throw new UsageException($"--{option} applies to the serving scenario only; add --scenario serving.");
                }
            }

            return null;
        }

        var streams = ParseCounts("streams", args.Values("streams"), ServingSettings.DefaultStreams, 1, ServingSettings.MaxStreams, "a number of concurrent streams");
        var connections = ParseCounts("connections", args.Values("connections"), ServingSettings.DefaultConnections, 1, ServingSettings.MaxConnections, "a number of connections");
        if (connections[^1] > streams[0])
        {
            throw new UsageException($"--connections {connections[^1]} is more than --streams {streams[0]}: every connection carries at least one stream.");
        }

        var tokens = ParseCount("tokens", args.Value("tokens"), ServingSettings.DefaultTokens, ServingSettings.MinTokens, ServingSettings.MaxTokens, "a number of tokens per stream");
        var tokenBytes = ParseCount("token-bytes", args.Value("token-bytes"), ServingSettings.DefaultTokenBytes, ServingSettings.MinTokenBytes, ServingSettings.MaxTokenBytes, "a token size in bytes");
        var rate = ServingSettings.DefaultTokenRate;
        if (args.Value("token-rate") is { } text)
        {
            if (!double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out rate) || !(rate >= ServingSettings.MinTokenRate && rate <= ServingSettings.MaxTokenRate))
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--token-rate '{text}' is not a number of tokens per second per stream between {ServingSettings.MinTokenRate} and {ServingSettings.MaxTokenRate:0}."));
            }
        }

        if ((long)streams[^1] * tokens > ServingSettings.MaxRecordedTokens)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--streams {streams[^1]} x --tokens {tokens} is more than the {ServingSettings.MaxRecordedTokens:N0} token arrivals a measurement records; ask for fewer streams or tokens."));
        }

        return new ServingSettings(streams, connections, tokens, rate, tokenBytes);
    }

    private static List<int> ParseCounts(string option, IReadOnlyList<string> values, int fallback, int min, int max, string what)
    {
        var counts = new List<int>();
        foreach (var item in Items(values))
        {
            var n = ParseCount(option, item, fallback, min, max, what);
            if (!counts.Contains(n))
            {
                counts.Add(n);
            }
        }

        if (counts.Count == 0)
        {
            counts.Add(fallback);
        }

        counts.Sort();
        return counts;
    }

    private static int ParseCount(string option, string? text, int fallback, int min, int max, string what)
    {
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text.Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--{option} '{text}' is not {what} between {min:N0} and {max:N0}."));
    }

    // Every list option takes commas and repeats alike: --scenario unary,stream == --scenario unary --scenario stream.
    private static IEnumerable<string> Items(IReadOnlyList<string> values)
    {
        foreach (var value in values)
        {
            foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return item;
            }
        }
    }

    private static List<BenchScenario> ParseScenarios(IReadOnlyList<string> values)
    {
        var scenarios = new List<BenchScenario>();
        foreach (var item in Items(values))
        {
            BenchScenario[] chosen = item.ToLowerInvariant() switch
            {
                "unary" => [BenchScenario.Unary],
                "stream" => [BenchScenario.Stream],
                "bulk" => [BenchScenario.Bulk],
                BenchNames.Serving => [BenchScenario.Serving],
                BenchNames.BulkPath => [BenchScenario.BulkPath],

                // Not bulk-path: it needs UCX and ucx_perftest, several GiB of memory and minutes of its own. Not serving:
                // it has a workload of its own, set by its own options.
                "all" => [BenchScenario.Unary, BenchScenario.Stream, BenchScenario.Bulk],
                _ => throw new UsageException($"--scenario '{item}' is not a scenario: write unary, stream, bulk, serving, bulk-path or all."),
            };
            foreach (var scenario in chosen)
            {
                if (!scenarios.Contains(scenario))
                {
                    scenarios.Add(scenario);
                }
            }
        }

        if (scenarios.Count == 0)
        {
            scenarios.AddRange([BenchScenario.Unary, BenchScenario.Stream, BenchScenario.Bulk]);
        }

        // Always in the table's order, whatever order they were written in.
        scenarios.Sort();
        return scenarios;
    }

    private static List<int> ParseConcurrencies(IReadOnlyList<string> values)
    {
        var concurrencies = new List<int>();
        foreach (var item in Items(values))
        {
            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > MaxConcurrency)
            {
                throw new UsageException($"--concurrency '{item}' is not a number of callers between 1 and {MaxConcurrency}.");
            }

            if (!concurrencies.Contains(n))
            {
                concurrencies.Add(n);
            }
        }

        if (concurrencies.Count == 0)
        {
            concurrencies.AddRange(DefaultConcurrencies);
        }

        concurrencies.Sort();
        return concurrencies;
    }

    private static TimeSpan ParseDuration(string option, string? text, TimeSpan fallback, bool allowZero)
    {
        if (text is null)
        {
            return fallback;
        }

        var duration = ReadDuration(option, text);
        if (duration == TimeSpan.Zero && !allowZero)
        {
            throw new UsageException($"--{option} must be longer than zero.");
        }

        if (duration > MaxDuration)
        {
            throw new UsageException($"--{option} is {text}; at most {MaxDuration.TotalMinutes:0} minutes per measurement.");
        }

        return duration;
    }

    /// <summary>
    /// A bare number is seconds (<c>--duration 5</c>), the unit every measurement is thought of in; anything else is
    /// read as configuration reads durations (<see cref="PlexusDuration"/>: 500ms, 10s, 2m, 00:00:10).
    /// </summary>
    private static TimeSpan ReadDuration(string option, string text)
    {
        var trimmed = text.Trim();
        if (double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
        {
            // Past the limit already; TimeSpan.FromSeconds would overflow on the largest numbers.
            return seconds > MaxDuration.TotalSeconds ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);
        }

        return PlexusDuration.TryParse(text, out var duration, out var error)
            ? duration
            : throw new UsageException($"--{option}: {error} A bare number is seconds.");
    }

    // nats-raw needs a nats-server, so `all` (and the default) include it only when the transport is nats; named
    // explicitly it is measured with any transport. The tcp baseline is the tcp transport, so `all` (and the default)
    // include it whenever the transport under test is another one; a transport cannot be its own baseline.
    private static List<BenchBaseline> ParseBaselines(IReadOnlyList<string> values, string transport)
    {
        var nats = string.Equals(transport, BenchNames.NatsTransport, StringComparison.OrdinalIgnoreCase);
        var tcp = string.Equals(transport, BenchNames.Tcp, StringComparison.OrdinalIgnoreCase);
        var baselines = new List<BenchBaseline>();
        var none = false;
        var any = false;
        foreach (var item in Items(values))
        {
            any = true;
            switch (item.ToLowerInvariant())
            {
                case BenchNames.RawTcp:
                    Add(BenchBaseline.RawTcp);
                    break;
                case BenchNames.RawTcpBlocking:
                    Add(BenchBaseline.RawTcpBlocking);
                    break;
                case BenchNames.KestrelH2:
                    Add(BenchBaseline.KestrelH2);
                    break;
                case BenchNames.NatsRaw:
                    Add(BenchBaseline.NatsRaw);
                    break;
                case BenchNames.Tcp when tcp:
                    throw new UsageException($"--baseline tcp: the transport under test is {transport}, and a transport cannot be its own baseline. Fix: measure another transport against it (--transport quic --baseline tcp), or name another baseline.");
                case BenchNames.Tcp:
                    Add(BenchBaseline.Tcp);
                    break;
                case BenchNames.TcpLowLatency:
                    Add(BenchBaseline.TcpLowLatency);
                    break;
                case "all":
                    AddAll();
                    break;
                case "none":
                    none = true;
                    break;
                default:
                    throw new UsageException($"--baseline '{item}' is not a baseline: write nats-raw, tcp, raw-tcp, raw-tcp-blocking, kestrel-h2, tcp-lowlatency, all or none.");
            }
        }

        if (none && baselines.Count > 0)
        {
            throw new UsageException("--baseline none cannot be combined with other baselines.");
        }

        if (!any)
        {
            AddAll();
        }

        baselines.Sort();
        return baselines;

        void Add(BenchBaseline baseline)
        {
            if (!baselines.Contains(baseline))
            {
                baselines.Add(baseline);
            }
        }

        void AddAll()
        {
            if (nats)
            {
                Add(BenchBaseline.NatsRaw);
            }

            if (!tcp)
            {
                Add(BenchBaseline.Tcp);
            }

            Add(BenchBaseline.RawTcp);
            Add(BenchBaseline.RawTcpBlocking);
            Add(BenchBaseline.KestrelH2);
        }
    }
}
