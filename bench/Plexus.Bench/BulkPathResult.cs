using System.Globalization;

namespace Plexus.Bench;

/// <summary>The bulk-path scenario at one payload size: the bulk path, the same transport inline, and ucx_perftest.</summary>
/// <param name="PayloadBytes">The request payload of every call.</param>
/// <param name="Bulk">Calls with <c>Plexus:Bulk:Transport=ucx</c> on both nodes.</param>
/// <param name="BulkTransfers">Bulk transfers the nodes counted over <paramref name="Bulk"/>'s measured calls (one per call).</param>
/// <param name="Inline">The same calls with the bulk path off; null when the transport cannot carry the payload inline.</param>
/// <param name="InlineUnavailable">Why <paramref name="Inline"/> is missing (the transport's own error), or null.</param>
/// <param name="Get"><c>ucx_perftest -t ucp_get_bw</c> at the same size and UCX_TLS.</param>
/// <param name="Put"><c>ucx_perftest -t ucp_put_bw</c> at the same size and UCX_TLS.</param>
/// <param name="GetWithErrorHandling">
/// <c>ucx_perftest -t ucp_get_bw -e</c>: endpoints with peer error handling, as the ucx bulk transport creates them, so
/// that UCX picks the same transports for the get as it does for the bulk path.
/// </param>
/// <param name="PerftestIterations">The measured iterations of each ucx_perftest run.</param>
internal sealed record BulkPathPoint(
    int PayloadBytes,
    BenchMeasurement Bulk,
    long BulkTransfers,
    BenchMeasurement? Inline,
    string? InlineUnavailable,
    UcxPerftestResult Get,
    UcxPerftestResult Put,
    UcxPerftestResult GetWithErrorHandling,
    int PerftestIterations)
{
    /// <summary>The size as the table and the figure keys write it: 64MiB, 1GiB.</summary>
    public string SizeKey => BulkPathPoint.Size(PayloadBytes, string.Empty);

    public string SizeLabel => BulkPathPoint.Size(PayloadBytes, " ");

    public double GetGigabytesPerSecond => Get.BytesPerSecond / 1e9;

    public double PutGigabytesPerSecond => Put.BytesPerSecond / 1e9;

    public double GetWithErrorHandlingGigabytesPerSecond => GetWithErrorHandling.BytesPerSecond / 1e9;

    public double? BulkToInline => Inline is { GigabytesPerSecond: > 0 } inline ? Bulk.GigabytesPerSecond / inline.GigabytesPerSecond : null;

    public double? BulkToGet => Get.BytesPerSecond > 0 ? Bulk.GigabytesPerSecond / GetGigabytesPerSecond : null;

    public double? BulkToPut => Put.BytesPerSecond > 0 ? Bulk.GigabytesPerSecond / PutGigabytesPerSecond : null;

    public double? BulkToGetWithErrorHandling => GetWithErrorHandling.BytesPerSecond > 0 ? Bulk.GigabytesPerSecond / GetWithErrorHandlingGigabytesPerSecond : null;

    public static string Size(long bytes, string separator) =>
        bytes % (1L << 30) == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes >> 30}{separator}GiB")
        : bytes % (1L << 20) == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20}{separator}MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes}{separator}B");
}

/// <summary>Everything the bulk-path scenario measured, and its figures.</summary>
internal sealed class BulkPathReport
{
    public const string PerftestGet = "ucx_perftest ucp_get_bw";

    public const string PerftestPut = "ucx_perftest ucp_put_bw";

    public const string PerftestGetWithErrorHandling = "ucx_perftest ucp_get_bw -e";

    /// <param name="transport">The stream transport both nodes use.</param>
    /// <param name="ucxTls">The UCX_TLS given to the nodes and to ucx_perftest; null when left to the environment.</param>
    /// <param name="points">One per payload size, smallest first.</param>
    public BulkPathReport(string transport, string? ucxTls, IReadOnlyList<BulkPathPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        Transport = transport;
        UcxTls = ucxTls;
        Points = points;
        Figures = BuildFigures();
    }

    public string Transport { get; }

    /// <summary>The name of the bulk path's figures: the transport with ucx, such as <c>tcp+ucx</c>.</summary>
    public string BulkSubject => $"{Transport}+ucx";

    public string? UcxTls { get; }

    public IReadOnlyList<BulkPathPoint> Points { get; }

    /// <summary>
    /// GB/s and CPU per MiB at each size; each figure's subject is the bulk path, and its ratios are to the transport
    /// inline and to ucx_perftest's get and put (and get with the bulk transport's endpoint error mode).
    /// </summary>
    public IReadOnlyList<BenchFigure> Figures { get; }

    private List<BenchFigure> BuildFigures()
    {
        var figures = new List<BenchFigure>();
        foreach (var point in Points)
        {
            var speeds = new List<KeyValuePair<string, double>> { new(BulkSubject, point.Bulk.GigabytesPerSecond) };
            if (point.Inline is { } inline)
            {
                speeds.Add(new(Transport, inline.GigabytesPerSecond));
            }

            speeds.Add(new(PerftestGet, point.GetGigabytesPerSecond));
            speeds.Add(new(PerftestPut, point.PutGigabytesPerSecond));
            speeds.Add(new(PerftestGetWithErrorHandling, point.GetWithErrorHandlingGigabytesPerSecond));
            figures.Add(new BenchFigure(
                $"bulkPath.{point.SizeKey}.gigabytesPerSecond",
                $"bulk path {point.SizeLabel} request",
                "GB/s",
                false,
                speeds,
                BulkSubject,
                [Transport, PerftestGet, PerftestPut, PerftestGetWithErrorHandling]));

            var cpu = new List<KeyValuePair<string, double>>();
            if (point.Bulk.CpuMicrosecondsPerMebibyte is { } bulkCpu)
            {
                cpu.Add(new(BulkSubject, bulkCpu));
            }

            if (point.Inline?.CpuMicrosecondsPerMebibyte is { } inlineCpu)
            {
                cpu.Add(new(Transport, inlineCpu));
            }

            figures.Add(new BenchFigure($"bulkPath.{point.SizeKey}.cpuUsPerMiB", $"bulk path {point.SizeLabel} CPU per MiB", "µs", true, cpu, BulkSubject, [Transport]));
        }

        return figures;
    }
}
