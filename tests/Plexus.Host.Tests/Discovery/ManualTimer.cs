namespace Plexus.Host.Tests.Discovery;

/// <summary>A timer of <see cref="ManualTimeProvider"/>. Its schedule is guarded by the provider's lock.</summary>
internal sealed class ManualTimer : ITimer
{
    private readonly ManualTimeProvider _owner;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private TimeSpan _period = Timeout.InfiniteTimeSpan;

    public ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state)
    {
        _owner = owner;
        _callback = callback;
        _state = state;
    }

    public DateTimeOffset? DueAt { get; private set; }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        _owner.Schedule(this, dueTime, period);
        return true;
    }

    public void Dispose() => _owner.Remove(this);

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    internal void Set(DateTimeOffset? dueAt, TimeSpan period)
    {
        DueAt = dueAt;
        _period = period;
    }

    internal void Reschedule(DateTimeOffset now) =>
        DueAt = _period == Timeout.InfiniteTimeSpan || _period <= TimeSpan.Zero ? null : now + _period;

    internal void Fire() => _callback(_state);
}
