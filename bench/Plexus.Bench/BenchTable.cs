using System.Globalization;
using Spectre.Console;

namespace Plexus.Bench;

/// <summary>Writes a report as a text table: each figure, and the transport's ratio to each baseline of the same run.</summary>
internal static class BenchTable
{
    public static void Write(BenchReport report, BenchEnvironment environment, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(output);
        var options = report.Options;
        var against = report.Baselines.Count == 0 ? "no baseline" : string.Join(", ", report.Baselines);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Plexus bench: transport {report.Subject} against {against}, over loopback; {Timing(options)}"));
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{environment.Runtime}, {environment.OperatingSystem} {environment.Architecture}, {environment.ProcessorCount} logical CPUs, {(environment.ServerGc ? "server" : "workstation")} GC"));
        output.WriteLine();
        if (report.Figures.Count > 0)
        {
            WriteFigures(report, output);
        }

        if (report.BulkPath is { } bulkPath)
        {
            output.WriteLine(BulkPathTitle(bulkPath));
            output.WriteLine();
            WriteAligned(BulkPathRows(bulkPath), output);
            output.WriteLine();
            output.WriteLine(BulkPathNote(bulkPath));
        }

        if (report.Serving is { } serving)
        {
            foreach (var plan in serving.Plans)
            {
                output.WriteLine(ServingTitle(plan));
                output.WriteLine();
                WriteAligned(ServingRows(serving, plan), output);
                output.WriteLine();
            }

            foreach (var line in ServingNotes(serving))
            {
                output.WriteLine(line);
            }
        }
    }

    private static string ServingTitle(ServingPlan plan) => string.Create(
        CultureInfo.InvariantCulture,
        $"Serving: {plan.Streams:N0} streams over {plan.Connections:N0} connection{(plan.Connections == 1 ? "" : "s")}, {plan.Tokens:N0} tokens of {plan.TokenBytes} B per stream at {plan.TokenRate:0.##} tokens/s each ({plan.TokensPerSecond:N0} tokens/s in all); streams opened at {plan.OpensPerSecond:N0}/s over {plan.StreamLifetime.TotalSeconds:0.##} s");

    /// <summary>The serving table of one plan: one row per subject, the in-process reference first, a header row first of all.</summary>
    public static List<string[]> ServingRows(ServingReport serving, ServingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(plan);
        var measurements = serving.Of(plan);
        ServingMeasurement? kestrel = null;
        foreach (var m in measurements)
        {
            if (m.Subject == BenchNames.KestrelH2)
            {
                kestrel = m;
            }
        }

        var header = new List<string>
        {
            "subject", "served", "TTFT p50 / p99 (µs)", "added TTFT p50 / p99 (µs)", "added ITL p50 / p99 / max (µs)", "CPU per token (µs)",
        };
        if (kestrel is not null)
        {
            header.Add($"CPU / {BenchNames.KestrelH2}");
        }

        header.AddRange(["allocated per token (B)", "managed per stream (B)", "working set per stream (B)", "managed per connection (B)", "threads", "timers"]);
        var rows = new List<string[]> { header.ToArray() };
        foreach (var m in measurements)
        {
            var latencies = m.Latencies;
            var added = serving.AddedTtft(m);
            var row = new List<string>
            {
                m.Subject,
                string.Create(CultureInfo.InvariantCulture, $"{m.Served:N0}/{plan.Streams:N0}"),
                Slashed(latencies?.TtftP50Microseconds, latencies?.TtftP99Microseconds),
                Slashed(added.P50, added.P99),
                Slashed(latencies?.AddedItlP50Microseconds, latencies?.AddedItlP99Microseconds, latencies?.AddedItlMaxMicroseconds),
                Format(m.CpuMicrosecondsPerToken, "µs"),
            };
            if (kestrel is not null)
            {
                row.Add(m.CpuMicrosecondsPerToken is { } own && kestrel.CpuMicrosecondsPerToken is { } theirs && theirs > 0 ? Ratio(own / theirs) : "-");
            }

            row.AddRange(
            [
                Format(m.AllocatedBytesPerToken, "B"),
                Format(m.ManagedBytesPerStream, "B"),
                Format(m.WorkingSetBytesPerStream, "B"),
                Format(m.ManagedBytesPerConnection, "B"),
                string.Create(CultureInfo.InvariantCulture, $"{m.Connected.Threads} -> {m.Idle.Threads}"),
                string.Create(CultureInfo.InvariantCulture, $"{m.Connected.Timers} -> {m.Idle.Timers}"),
            ]);
            rows.Add(row.ToArray());
        }

        return rows;

        static string Slashed(params double?[] values)
        {
            var cells = new string[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                cells[i] = Format(values[i], "µs");
            }

            return string.Join(" / ", cells);
        }
    }

    /// <summary>The columns of <see cref="ServingRows"/> up to the latencies: subject, served, TTFT, added TTFT, added ITL.</summary>
    private const int ServingLatencyColumns = 5;

    private static Table ServingTable(List<string[]> rows, int from, int to, string? title)
    {
        var table = new Table().Border(TableBorder.Rounded);
        if (title is not null)
        {
            table.Title(Markup.Escape(title));
        }

        var columns = new List<int>();
        if (from > 0)
        {
            columns.Add(0);
        }

        for (var i = from; i < to; i++)
        {
            columns.Add(i);
        }

        foreach (var i in columns)
        {
            table.AddColumn(i == 0 ? new TableColumn(Markup.Escape(rows[0][i])) : new TableColumn(Markup.Escape(rows[0][i])).RightAligned());
        }

        for (var r = 1; r < rows.Count; r++)
        {
            var cells = new string[columns.Count];
            for (var c = 0; c < cells.Length; c++)
            {
                cells[c] = Markup.Escape(rows[r][columns[c]]);
            }

            table.AddRow(cells);
        }

        return table;
    }

    /// <summary>What the serving tables' figures mean, and what was not measured and why.</summary>
    public static List<string> ServingNotes(ServingReport serving)
    {
        ArgumentNullException.ThrowIfNull(serving);
        var pace = 1000 / serving.Settings.TokenRate;
        var lines = new List<string>
        {
            $"{InProcessServing.SubjectName} = the serving handler called directly in this process, no transport: the harness's and the pacer's share of every figure.",
            "TTFT = from sending a stream's request to its first token arriving (written at once by the handler); added TTFT = the subject's minus in-process's.",
            string.Create(CultureInfo.InvariantCulture, $"added ITL = the gap between two consecutive tokens of a stream minus the pace ({pace:0.###} ms), over tokens 1 to n-1 of every stream served."),
            "CPU per token = process CPU time (client, server and harness together in this process) while the streams opened and while they were served, divided by the tokens received.",
            "allocated per token = managed bytes allocated by every thread while the paced tokens flowed, divided by those tokens.",
            "per stream = (every stream open and idle - the connections open without streams) / streams; per connection = (connections open - none) / connections; each after a full garbage collection.",
            "threads, timers = the process's threads and the runtime's active timers with the connections open -> with every stream open and idle.",
        };
        foreach (var (subject, reason) in serving.Unsupported)
        {
            lines.Add($"{subject}: not measured: {reason}.");
        }

        foreach (var note in serving.Notes)
        {
            lines.Add(note);
        }

        foreach (var m in serving.Measurements)
        {
            if (m.Failed > 0)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{m.Subject} {ServingBench.Label(m.Plan)}: {m.Failed:N0} of {m.Plan.Streams:N0} streams not served completely; first: {m.FirstError}"));
            }
        }

        return lines;
    }

    private static void WriteFigures(BenchReport report, TextWriter output)
    {
        var header = new List<string> { "figure", report.Subject };
        foreach (var baseline in report.Baselines)
        {
            header.Add(baseline);
            header.Add($"{report.Subject}/{baseline}");
        }

        var rows = new List<string[]> { header.ToArray() };
        foreach (var figure in report.Figures)
        {
            var row = new List<string> { $"{figure.Label} ({figure.Unit})", Format(figure.ValueOf(report.Subject), figure.Unit) };
            foreach (var baseline in report.Baselines)
            {
                row.Add(Format(figure.ValueOf(baseline), figure.Unit));
                row.Add(figure.Ratio(report.Subject, baseline) is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-");
            }

            rows.Add(row.ToArray());
        }

        WriteAligned(rows, output);
        output.WriteLine();
        if (report.Baselines.Count > 0)
        {
            output.WriteLine($"{report.Subject}/<baseline> = the {report.Subject} figure divided by the baseline's from this run. Latency: lower is better; throughput: higher is better.");
            output.WriteLine();
        }
    }

    private static void WriteAligned(List<string[]> rows, TextWriter output)
    {
        var widths = new int[rows[0].Length];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in rows)
        {
            // The label column is left-aligned, numbers right-aligned so their digits line up.
            var cells = row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    private static string BulkPathTitle(BulkPathReport path) =>
        $"Bulk path: {path.Transport} with ucx (Plexus:Bulk:Transport=ucx on both nodes) against {path.Transport} inline and ucx_perftest; UCX_TLS {path.UcxTls ?? "unset (the environment's)"}";

    private static string BulkPathNote(BulkPathReport path) =>
        $"GB/s = payload bytes (10^9) per second of sequential calls, each answered by 8 bytes. bulk/x = {path.BulkSubject} divided by x; -e = ucx_perftest with peer error handling (as the bulk transport with Plexus:Bulk:Ucx:PeerErrorHandling=true); CPU = process CPU per MiB (both nodes).";

    /// <summary>The bulk path's table: one row per payload size, a header row first.</summary>
    public static List<string[]> BulkPathRows(BulkPathReport path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var rows = new List<string[]>
        {
            new[]
            {
                "payload", $"{path.BulkSubject} (GB/s)", $"{path.Transport} inline (GB/s)", "bulk/inline", "ucp_get_bw (GB/s)", "bulk/get",
                "ucp_put_bw (GB/s)", "bulk/put", "ucp_get_bw -e (GB/s)", "bulk/get -e", "CPU bulk (µs/MiB)", "CPU inline (µs/MiB)", "calls (bulk transfers)",
            },
        };
        foreach (var point in path.Points)
        {
            rows.Add(
            [
                point.SizeLabel,
                Format(point.Bulk.GigabytesPerSecond, "GB/s"),
                point.Inline is { } inline ? Format(inline.GigabytesPerSecond, "GB/s") : "not possible",
                Ratio(point.BulkToInline),
                Format(point.GetGigabytesPerSecond, "GB/s"),
                Ratio(point.BulkToGet),
                Format(point.PutGigabytesPerSecond, "GB/s"),
                Ratio(point.BulkToPut),
                Format(point.GetWithErrorHandlingGigabytesPerSecond, "GB/s"),
                Ratio(point.BulkToGetWithErrorHandling),
                Format(point.Bulk.CpuMicrosecondsPerMebibyte, "µs"),
                Format(point.Inline?.CpuMicrosecondsPerMebibyte, "µs"),
                string.Create(CultureInfo.InvariantCulture, $"{point.Bulk.Operations:N0} ({point.BulkTransfers:N0})"),
            ]);
        }

        return rows;
    }

    private static string Ratio(double? ratio) => ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-";

    /// <summary>Draws the same table for a terminal: aligned columns, ratios coloured by whether they favour the transport.</summary>
    public static void WriteRich(BenchReport report, BenchEnvironment environment, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(console);
        var against = report.Baselines.Count == 0 ? "no baseline" : string.Join(", ", report.Baselines);
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{report.Subject} against {against}, over loopback"))
            .Caption(Markup.Escape(string.Create(
                CultureInfo.InvariantCulture,
                $"{environment.Runtime}, {environment.ProcessorCount} CPUs; {Timing(report.Options)}; ratio = {report.Subject} / baseline, same run")));
        table.AddColumn("figure");
        table.AddColumn(new TableColumn($"[bold]{Markup.Escape(report.Subject)}[/]").RightAligned());
        foreach (var baseline in report.Baselines)
        {
            table.AddColumn(new TableColumn(Markup.Escape(baseline)).RightAligned());
            table.AddColumn(new TableColumn("ratio").RightAligned());
        }

        foreach (var figure in report.Figures)
        {
            var cells = new List<string>
            {
                Markup.Escape($"{figure.Label} ({figure.Unit})"),
                $"[bold]{Format(figure.ValueOf(report.Subject), figure.Unit)}[/]",
            };
            foreach (var baseline in report.Baselines)
            {
                cells.Add(Format(figure.ValueOf(baseline), figure.Unit));
                if (figure.Ratio(report.Subject, baseline) is { } ratio)
                {
                    var better = figure.LowerIsBetter ? ratio <= 1 : ratio >= 1;
                    cells.Add($"[{(better ? "green" : "yellow")}]{ratio.ToString("0.00", CultureInfo.InvariantCulture)}x[/]");
                }
                else
                {
                    cells.Add("-");
                }
            }

            table.AddRow([.. cells]);
        }

        if (report.Figures.Count > 0)
        {
            console.Write(table);
        }

        if (report.BulkPath is { } bulkPath)
        {
            var rows = BulkPathRows(bulkPath);
            var paths = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(BulkPathTitle(bulkPath))).Caption(Markup.Escape(BulkPathNote(bulkPath)));
            for (var i = 0; i < rows[0].Length; i++)
            {
                paths.AddColumn(i == 0 ? new TableColumn(Markup.Escape(rows[0][i])) : new TableColumn(Markup.Escape(rows[0][i])).RightAligned());
            }

            for (var r = 1; r < rows.Count; r++)
            {
                var cells = new string[rows[r].Length];
                for (var i = 0; i < cells.Length; i++)
                {
                    cells[i] = Markup.Escape(rows[r][i]);
                }

                paths.AddRow(cells);
            }

            console.Write(paths);
        }

        if (report.Serving is { } serving)
        {
            foreach (var plan in serving.Plans)
            {
                // Two tables, latencies and then costs, each starting with the subject: one would be too wide for most terminals.
                var rows = ServingRows(serving, plan);
                console.Write(ServingTable(rows, 0, ServingLatencyColumns, ServingTitle(plan)));
                console.Write(ServingTable(rows, ServingLatencyColumns, rows[0].Length, null));
            }

            foreach (var line in ServingNotes(serving))
            {
                console.WriteLine(line);
            }
        }
    }

    // The serving scenario's workload is its tokens, not a duration: a run of it alone says so instead.
    private static string Timing(BenchOptions options)
    {
        foreach (var scenario in options.Scenarios)
        {
            if (scenario != BenchScenario.Serving)
            {
                return $"{Seconds(options.Duration)} per measurement after {Seconds(options.Warmup)} warm-up";
            }
        }

        return options.Warmup > TimeSpan.Zero ? "a short warm-up round before each serving measurement" : "no warm-up";
    }

    public static string Format(double? value, string unit) => value switch
    {
        null => "-",
        { } v when unit == "µs" => v.ToString("0.0", CultureInfo.InvariantCulture),
        { } v when unit == "GB/s" => v.ToString("0.00", CultureInfo.InvariantCulture),
        { } v => v.ToString("N0", CultureInfo.InvariantCulture),
    };

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
