namespace Plexus.Bench;

/// <summary>
/// The latencies of a serving measurement, read from its log once it is over, over the streams served completely.
/// <list type="bullet">
/// <item>Time to first token: from the moment a stream's request was sent to the arrival of its first token (which
/// the handler writes at once).</item>
/// <item>Added inter-token latency: the gap between two consecutive paced tokens of a stream minus the pace, for tokens
/// 1 to n - 1 (the gap between tokens 0 and 1 spans the time every stream waits, open and idle, for the others).</item>
/// </list>
/// Percentiles are nearest-rank (<see cref="Percentiles"/>); everything is in microseconds.
/// </summary>
internal sealed record ServingLatencies(
    int Streams,
    double TtftP50Microseconds,
    double TtftP99Microseconds,
    long GapSamples,
    double? AddedItlP50Microseconds,
    double? AddedItlP99Microseconds,
    double? AddedItlMaxMicroseconds)
{
    /// <param name="sent">When each stream's request was sent.</param>
    /// <param name="arrivals">When each token arrived: stream i's token k at i × <paramref name="tokens"/> + k.</param>
    /// <param name="complete">Which streams were served completely; only those count.</param>
    /// <param name="tokens">Tokens per stream.</param>
    /// <param name="paceTicks">The pace, in ticks of the clock the times were read from.</param>
    /// <param name="frequency">That clock's ticks per second.</param>
    /// <returns>Null when no stream was served completely.</returns>
    public static ServingLatencies? Compute(ReadOnlySpan<long> sent, ReadOnlySpan<long> arrivals, ReadOnlySpan<bool> complete, int tokens, long paceTicks, long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(frequency, 1);
        if (sent.Length != complete.Length || arrivals.Length != (long)sent.Length * tokens)
        {
            throw new ArgumentException($"{sent.Length} sends and {complete.Length} outcomes do not make {arrivals.Length} arrivals of {tokens} tokens each.", nameof(arrivals));
        }

        var served = 0;
        foreach (var done in complete)
        {
            served += done ? 1 : 0;
        }

        if (served == 0)
        {
            return null;
        }

        var firsts = new long[served];
        var gapsPerStream = Math.Max(0, tokens - 2);
        var gaps = new long[(long)served * gapsPerStream];
        int f = 0, g = 0;
        for (var stream = 0; stream < sent.Length; stream++)
        {
            if (!complete[stream])
            {
                continue;
            }

            var times = arrivals.Slice(stream * tokens, tokens);
            firsts[f++] = times[0] - sent[stream];
            for (var k = 2; k < tokens; k++)
            {
                gaps[g++] = times[k] - times[k - 1] - paceTicks;
            }
        }

        Array.Sort(firsts);
        Array.Sort(gaps);
        return new ServingLatencies(
            served,
            Microseconds(Percentiles.NearestRank(firsts, 50), frequency),
            Microseconds(Percentiles.NearestRank(firsts, 99), frequency),
            gaps.Length,
            gaps.Length > 0 ? Microseconds(Percentiles.NearestRank(gaps, 50), frequency) : null,
            gaps.Length > 0 ? Microseconds(Percentiles.NearestRank(gaps, 99), frequency) : null,
            gaps.Length > 0 ? Microseconds(gaps[^1], frequency) : null);
    }

    public static double Microseconds(long ticks, long frequency) => ticks * 1_000_000.0 / frequency;
}
