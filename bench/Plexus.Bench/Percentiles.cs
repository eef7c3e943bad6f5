namespace Plexus.Bench;

/// <summary>Percentiles of recorded samples by the nearest-rank method: always a value that was actually observed.</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="percentile"/>th percentile of <paramref name="sorted"/>, which must be sorted ascending.</summary>
    /// <param name="sorted">The samples, ascending.</param>
    /// <param name="percentile">Between 0 (exclusive) and 100 (inclusive).</param>
    /// <returns>The smallest sample that at least <paramref name="percentile"/> percent of the samples do not exceed.</returns>
    public static long NearestRank(ReadOnlySpan<long> sorted, double percentile)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("There are no samples.", nameof(sorted));
        }

        if (!(percentile > 0 && percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "A percentile is above 0 and at most 100.");
        }

        // Rank n*p/100 rounded up, 1-based. The small epsilon keeps 99% of 100 samples at rank 99, not 100, when the
        // product comes out as 99.00000000000001 in binary floating point.
        var rank = (long)Math.Ceiling((sorted.Length * percentile / 100.0) - 1e-9);
        var index = (int)Math.Clamp(rank - 1, 0, sorted.Length - 1);
        return sorted[index];
    }
}
