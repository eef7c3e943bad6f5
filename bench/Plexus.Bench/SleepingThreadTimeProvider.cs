namespace Plexus.Bench;

/// <summary>
/// The system clock, with timers that each run on a thread of their own which sleeps between ticks. The runtime's
/// timers on Linux are scheduled on the coarse monotonic clock, which moves in 4 ms steps on these machines: a timer
/// asked to tick every millisecond ticks every 3.6 ms at the median and 4.9 ms at the 99th percentile, where a thread
/// sleeping a millisecond at a time wakes every 1.0 ms (1.1 ms at the 99th percentile). The serving pacer is the one
/// user: one timer per measurement, as an inference server's decode loop is one thread.
/// </summary>
internal sealed class SleepingThreadTimeProvider : TimeProvider
{
    private SleepingThreadTimeProvider()
    {
    }

    /// <summary>The one instance.</summary>
    public static SleepingThreadTimeProvider Instance { get; } = new();

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new SleepingThreadTimer(callback, state, dueTime, period);
    }
}
