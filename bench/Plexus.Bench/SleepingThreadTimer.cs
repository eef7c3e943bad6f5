using System.Diagnostics;

namespace Plexus.Bench;

/// <summary>
/// A timer on a thread of its own (see <see cref="SleepingThreadTimeProvider"/>): it sleeps until the next tick is
/// due, then calls back on that thread. A callback that overruns the period is followed by the next at once, never by
/// a second one running beside it. <see cref="Change"/> and <see cref="Dispose"/> take effect before the next tick.
/// </summary>
internal sealed class SleepingThreadTimer : ITimer
{
    private readonly TimerCallback _callback;
    private readonly object? _state;

    // Guards the fields below; the thread sleeps on it (Monitor.Wait), and a change wakes it.
    private readonly object _gate = new();

    // When the next tick is due, as a Stopwatch timestamp (long.MaxValue: never), and the period in timestamp ticks
    // (0: once).
    private long _due;
    private long _period;
    private bool _disposed;

    public SleepingThreadTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _callback = callback;
        _state = state;
        Set(dueTime, period);
        new Thread(Run) { IsBackground = true, Name = "Plexus bench timer" }.Start();
    }

    /// <inheritdoc />
    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            Set(dueTime, period);
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private void Set(TimeSpan dueTime, TimeSpan period)
    {
        _due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + Math.Max(0, Ticks(dueTime));
        _period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : Math.Max(1, Ticks(period));
    }

    private void Run()
    {
        while (true)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                if (_due > now)
                {
                    // Whole milliseconds, at least one: the kernel wakes the thread about 0.1 ms after that.
                    Monitor.Wait(_gate, _due == long.MaxValue ? Timeout.Infinite : (int)Math.Max(1, (_due - now) * 1000 / Stopwatch.Frequency));
                    continue;
                }

                // The next tick is a period after this one was due, or now if the callback fell behind.
                _due = _period == 0 ? long.MaxValue : Math.Max(_due + _period, now);
            }

            _callback(_state);
        }
    }
}
