namespace Plexus.Bench.Tests;

/// <summary>The serving pacer's timer: a thread of its own that ticks, stops when changed or disposed, and never overlaps itself.</summary>
public sealed class SleepingThreadTimerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_periodic_timer_ticks_on_a_thread_of_its_own_until_disposed()
    {
        var ticks = 0;
        var threads = new HashSet<int>();
        var timer = EveryMillisecond(() =>
        {
            lock (threads)
            {
                threads.Add(Environment.CurrentManagedThreadId);
            }

            Interlocked.Increment(ref ticks);
        });

        await UntilAsync(() => Volatile.Read(ref ticks) >= 20);
        Assert.True(Volatile.Read(ref ticks) >= 20);
        timer.Dispose();
        await Task.Delay(50);
        var afterDispose = Volatile.Read(ref ticks);
        await Task.Delay(100);

        Assert.Equal(afterDispose, Volatile.Read(ref ticks));
        Assert.Single(threads);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);
        Assert.False(timer.Change(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public async Task A_timer_with_no_period_ticks_once_and_an_infinite_due_time_not_at_all()
    {
        var once = 0;
        var never = 0;
        using var single = SleepingThreadTimeProvider.Instance.CreateTimer(_ => Interlocked.Increment(ref once), null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        using var idle = SleepingThreadTimeProvider.Instance.CreateTimer(_ => Interlocked.Increment(ref never), null, Timeout.InfiniteTimeSpan, TimeSpan.FromMilliseconds(1));

        await Task.Delay(200);

        Assert.Equal(1, Volatile.Read(ref once));
        Assert.Equal(0, Volatile.Read(ref never));

        // Changed, the idle one starts ticking.
        Assert.True(idle.Change(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)));
        await UntilAsync(() => Volatile.Read(ref never) >= 3);

        Assert.True(Volatile.Read(ref never) >= 3);
    }

    [Fact]
    public async Task A_callback_longer_than_the_period_is_followed_by_the_next_never_run_beside_it()
    {
        var running = 0;
        var most = 0;
        var ticks = 0;
        using var timer = EveryMillisecond(() =>
        {
            InterlockedMax(ref most, Interlocked.Increment(ref running));
            Thread.Sleep(5);
            Interlocked.Decrement(ref running);
            Interlocked.Increment(ref ticks);
        });

        await UntilAsync(() => Volatile.Read(ref ticks) >= 5);

        Assert.True(Volatile.Read(ref ticks) >= 5);

        Assert.Equal(1, Volatile.Read(ref most));
    }

    [Fact]
    public async Task Changed_to_never_it_stops_ticking()
    {
        var ticks = 0;
        using var timer = EveryMillisecond(() => Interlocked.Increment(ref ticks));
        await UntilAsync(() => Volatile.Read(ref ticks) >= 3);

        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        await Task.Delay(50);
        var stopped = Volatile.Read(ref ticks);
        await Task.Delay(100);

        Assert.True(stopped >= 3);
        Assert.Equal(stopped, Volatile.Read(ref ticks));
    }

    private static ITimer EveryMillisecond(Action tick) =>
        SleepingThreadTimeProvider.Instance.CreateTimer(_ => tick(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));

    // Polls until the condition holds or the bound passes; the assertion after it says which.
    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
