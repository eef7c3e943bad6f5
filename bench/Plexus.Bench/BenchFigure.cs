namespace Plexus.Bench;

/// <summary>One row of the result table: one figure for every subject, and the ratios of the first subject to the others.</summary>
/// <param name="Key">A stable name for scripts, such as <c>unary.c1.p50Us</c>.</param>
/// <param name="Label">What the row says in the table.</param>
/// <param name="Unit">The unit of the values.</param>
/// <param name="LowerIsBetter">True for latencies, false for throughputs.</param>
/// <param name="Values">The figure of each subject that measured it, the transport under test first.</param>
/// <param name="Subject">Whose figure the ratios divide, when not the report's transport (the bulk path's figures).</param>
/// <param name="Against">What the ratios divide by, when not the report's baselines.</param>
internal sealed record BenchFigure(
    string Key,
    string Label,
    string Unit,
    bool LowerIsBetter,
    IReadOnlyList<KeyValuePair<string, double>> Values,
    string? Subject = null,
    IReadOnlyList<string>? Against = null)
{
    public double? ValueOf(string subject)
    {
        foreach (var (name, value) in Values)
        {
            if (name == subject)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The figure of <paramref name="subject"/> divided by that of <paramref name="baseline"/>; null when either is missing or the baseline is 0.</summary>
    public double? Ratio(string subject, string baseline) =>
        ValueOf(subject) is { } value && ValueOf(baseline) is { } reference && reference != 0 ? value / reference : null;
}
