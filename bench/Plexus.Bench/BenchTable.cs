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

        var widths = new int[header.Count];
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

        output.WriteLine();
        if (report.Baselines.Count > 0)
        {
            output.WriteLine($"{report.Subject}/<baseline> = the {report.Subject} figure divided by the baseline's from this run. Latency: lower is better; throughput: higher is better.");
        }
    }

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

        console.Write(table);
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
