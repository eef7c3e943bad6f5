using Microsoft.Extensions.Time.Testing;

namespace Plexus.Bench.Tests;

/// <summary>The shared pacer on a clock driven by hand.</summary>
public sealed class ServingPacerTests
{
    // 100 tokens/s: a pace of 10 ms; four streams have phases 0, 2.5, 5 and 7.5 ms.
    private static readonly ServingPlan Plan = new(4, 1, 5, 100, 32);

    [Fact]
    public async Task Nothing_is_released_before_the_start_then_each_stream_at_its_phase_and_one_pace_apart()
    {
        var time = new FakeTimeProvider();
        using var pacer = new ServingPacer(Plan, time);
        var streams = new PacedStream[4];
        var waits = new ValueTask[4];
        for (var i = 0; i < streams.Length; i++)
        {
            streams[i] = pacer.OpenStream(i, CancellationToken.None);
            waits[i] = streams[i].NextAsync();
        }

        Assert.Equal(4, pacer.Open);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.All(waits, w => Assert.False(w.IsCompleted));

        pacer.Start();

        // Stream 0 is due at once and released on the first tick; the others as their phase passes.
        time.Advance(TimeSpan.FromMilliseconds(1));
        await waits[0];
        Assert.False(waits[1].IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(2));
        await waits[1];
        Assert.False(waits[2].IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(5));
        await waits[2];
        await waits[3];

        // Stream 0's next token is one pace after its first: at 10 ms, not before.
        var next = streams[0].NextAsync();
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await next;

        foreach (var stream in streams)
        {
            stream.Dispose();
        }

        Assert.Equal(0, pacer.Open);
        Assert.Equal(4, pacer.Opened);
    }

    [Fact]
    public async Task A_stream_behind_its_pace_goes_on_at_once_and_a_late_tick_catches_up()
    {
        var time = new FakeTimeProvider();
        using var pacer = new ServingPacer(Plan, time);
        using var stream = pacer.OpenStream(0, CancellationToken.None);
        pacer.Start();

        // Its first two tokens were due at 0 and 10 ms; at 25 ms both are past.
        time.SetUtcNow(time.GetUtcNow() + TimeSpan.FromMilliseconds(25));
        Assert.True(stream.NextAsync().IsCompleted);
        Assert.True(stream.NextAsync().IsCompleted);

        // The third, due at 20 ms, is past too; the fourth at 30 ms waits.
        Assert.True(stream.NextAsync().IsCompleted);
        var fourth = stream.NextAsync();
        Assert.False(fourth.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(5));
        await fourth;
    }

    [Fact]
    public async Task Cancelling_the_request_fails_its_wait_and_disposing_the_pacer_fails_the_others()
    {
        var time = new FakeTimeProvider();
        var pacer = new ServingPacer(Plan, time);
        using var cancel = new CancellationTokenSource();
        using var cancelled = pacer.OpenStream(0, cancel.Token);
        using var stopped = pacer.OpenStream(1, CancellationToken.None);
        var first = cancelled.NextAsync();
        var second = stopped.NextAsync();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.AsTask());

        pacer.Dispose();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AsTask());
    }

    [Fact]
    public async Task A_thousand_streams_share_one_timer_and_are_all_released_within_a_pace()
    {
        var time = new CountingTimeProvider();
        var plan = Plan with { Streams = 1000 };
        using var pacer = new ServingPacer(plan, time);
        var streams = new PacedStream[plan.Streams];
        var waits = new Task[plan.Streams];
        for (var i = 0; i < streams.Length; i++)
        {
            streams[i] = pacer.OpenStream(i, CancellationToken.None);
            waits[i] = streams[i].NextAsync().AsTask();
        }

        pacer.Start();
        for (var ms = 0; ms < 10; ms++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        await Task.WhenAll(waits);
        foreach (var stream in streams)
        {
            stream.Dispose();
        }

        Assert.Equal(1, time.Timers);
    }

    private sealed class CountingTimeProvider : FakeTimeProvider
    {
        public int Timers { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Timers++;
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
