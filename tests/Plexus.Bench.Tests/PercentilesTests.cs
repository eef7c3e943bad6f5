using System.Diagnostics;

namespace Plexus.Bench.Tests;

public sealed class PercentilesTests
{
    private static readonly long[] OneToHundred = Enumerable.Range(1, 100).Select(i => (long)i).ToArray();

    [Theory]
    [InlineData(50, 50)]
    [InlineData(99, 99)]
    [InlineData(100, 100)]
    [InlineData(1, 1)]
    [InlineData(0.5, 1)]
    [InlineData(99.5, 100)]
    public void Nearest_rank_of_one_to_a_hundred(double percentile, long expected) =>
        Assert.Equal(expected, Percentiles.NearestRank(OneToHundred, percentile));

    [Fact]
    public void Nearest_rank_is_an_observed_sample_not_an_interpolation()
    {
        long[] sorted = [10, 20, 30, 40];

        Assert.Equal(20, Percentiles.NearestRank(sorted, 50));
        Assert.Equal(40, Percentiles.NearestRank(sorted, 99));
        Assert.Equal(10, Percentiles.NearestRank(sorted, 25));
        Assert.Equal(30, Percentiles.NearestRank(sorted, 50.1));
    }

    [Fact]
    public void One_sample_is_every_percentile()
    {
        Assert.Equal(7, Percentiles.NearestRank([7], 1));
        Assert.Equal(7, Percentiles.NearestRank([7], 99));
    }

    [Fact]
    public void No_samples_or_a_percentile_out_of_range_throw()
    {
        Assert.Throws<ArgumentException>(() => Percentiles.NearestRank([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1], 100.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1], double.NaN));
    }

    [Fact]
    public void Recorder_sorts_at_the_end_and_reports_microseconds()
    {
        var recorder = new LatencyRecorder(capacity: 16);
        var microsecond = Stopwatch.Frequency / 1_000_000.0;

        // Recorded out of order: the recorder sorts only when asked for percentiles.
        foreach (var us in new[] { 40, 10, 30, 20 })
        {
            recorder.Record((long)Math.Round(us * microsecond));
        }

        var percentiles = recorder.PercentilesMicroseconds(50, 99);

        Assert.Equal(4, recorder.Count);
        Assert.Equal(20, percentiles[0], precision: 3);
        Assert.Equal(40, percentiles[1], precision: 3);
    }

    [Fact]
    public void Recorder_keeps_the_latest_samples_when_full()
    {
        var recorder = new LatencyRecorder(capacity: 4);
        for (var ticks = 1L; ticks <= 10; ticks++)
        {
            recorder.Record(ticks * 1000);
        }

        Assert.Equal(10, recorder.Count);
        Assert.Equal(4, recorder.Retained);

        // Samples 7..10 remain: the smallest retained one is the 25th percentile.
        var lowest = recorder.PercentilesMicroseconds(25)[0];
        Assert.Equal(LatencyRecorder.TicksToMicroseconds(7000), lowest, precision: 6);

        recorder.Reset();
        Assert.Equal(0, recorder.Count);
        Assert.Equal(0, recorder.Retained);
    }
}
