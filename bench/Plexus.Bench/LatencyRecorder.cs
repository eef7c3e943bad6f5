using System.Diagnostics;

namespace Plexus.Bench;

/// <summary>
/// Records per-call latencies in <see cref="Stopwatch"/> ticks into an array allocated up front, so that recording a
/// sample allocates nothing. When more calls are made than it holds, it keeps the most recent ones (a ring): the
/// percentiles then describe the steady end of the measurement. Not thread-safe: one recorder per caller.
/// </summary>
internal sealed class LatencyRecorder
{
    /// <summary>2^21 samples, 16 MiB: about ten seconds of the fastest in-process calls.</summary>
    public const int DefaultCapacity = 1 << 21;

    private readonly long[] _samples;
    private long _count;

    public LatencyRecorder(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _samples = new long[capacity];
    }

    /// <summary>How many samples were recorded, including those the ring overwrote.</summary>
    public long Count => _count;

    /// <summary>How many samples are kept and go into the percentiles.</summary>
    public int Retained => (int)Math.Min(_count, _samples.Length);

    /// <summary>Forgets every sample, keeping the array for the next measurement.</summary>
    public void Reset() => _count = 0;

    public void Record(long elapsedTicks)
    {
        _samples[(int)(_count % _samples.Length)] = elapsedTicks;
        _count++;
    }

    /// <summary>Sorts the retained samples (once, at the end of a measurement) and reads percentiles in microseconds.</summary>
    /// <returns>The percentiles in the order asked, in microseconds.</returns>
    public double[] PercentilesMicroseconds(params double[] percentiles)
    {
        ArgumentNullException.ThrowIfNull(percentiles);
        var retained = _samples.AsSpan(0, Retained);
        retained.Sort();
        var result = new double[percentiles.Length];
        for (var i = 0; i < percentiles.Length; i++)
        {
            result[i] = TicksToMicroseconds(Percentiles.NearestRank(retained, percentiles[i]));
        }

        return result;
    }

    public static double TicksToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
