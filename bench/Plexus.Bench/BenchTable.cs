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
            $"Plexus bench: transport {report.Subject} against {against}, over loopback; {Seconds(options.Duration)} per measurement after {Seconds(options.Warmup)} warm-up"));
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
                $"{environment.Runtime}, {environment.ProcessorCount} CPUs; {Seconds(report.Options.Duration)} per measurement after {Seconds(report.Options.Warmup)} warm-up; ratio = {report.Subject} / baseline, same run")));
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
