namespace Plexus.Hosting.Telemetry;

/// <summary>The aggregate of one time series: a running sum, a last value, or histogram buckets.</summary>
internal abstract class MetricSeries
{
    public abstract void Record(double value);

    /// <summary>Adds up measurements: counters (monotonic) and up-down counters.</summary>
    internal sealed class Sum : MetricSeries
    {
        private readonly Lock _gate = new();
        private double _value;

        public double Value
        {
            get
            {
                lock (_gate)
                {
                    return _value;
                }
            }
        }

        public override void Record(double value)
        {
            lock (_gate)
            {
                _value += value;
            }
        }
    }

    /// <summary>Keeps the last measurement: gauges, and observable counters which report their own totals.</summary>
    internal sealed class Last : MetricSeries
    {
        private double _value;

        public double Value => Volatile.Read(ref _value);

        public override void Record(double value) => Volatile.Write(ref _value, value);
    }

    /// <summary>Counts measurements into cumulative buckets with fixed upper bounds.</summary>
    internal sealed class Histogram(double[] bounds) : MetricSeries
    {
        private readonly Lock _gate = new();
        private readonly long[] _counts = new long[bounds.Length + 1];
        private double _sum;
        private long _count;

        public double[] Bounds { get; } = bounds;

        public override void Record(double value)
        {
            var index = Array.BinarySearch(Bounds, value);
            if (index < 0)
            {
                index = ~index;
            }

            lock (_gate)
            {
                _counts[index]++;
                _sum += value;
                _count++;
            }
        }

        /// <summary>Copies the state: per-bucket counts (not cumulative), the sum and the count.</summary>
        public (long[] Counts, double Sum, long Count) Snapshot()
        {
            lock (_gate)
            {
                return ((long[])_counts.Clone(), _sum, _count);
            }
        }
    }
}
