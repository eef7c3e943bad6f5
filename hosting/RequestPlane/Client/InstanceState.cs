namespace Plexus.Hosting.RequestPlane.Client;

/// <summary>What this client knows of one instance: the instance as discovery last showed it, and its own in-flight count and health.</summary>
internal sealed class InstanceState
{
    private Instance _instance;
    private int _inFlight;
    private long _unhealthyUntil;
    private long _busyUntil;

    public InstanceState(Instance instance)
    {
        _instance = instance;
    }

    public Instance Instance
    {
        get => Volatile.Read(ref _instance);
        set => Volatile.Write(ref _instance, value);
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Leave() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Whether a recent request failed to reach it; timestamps come from <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public bool IsUnhealthy(long now) => now < Volatile.Read(ref _unhealthyUntil);

    /// <summary>Whether it said it is busy, or discovery says so.</summary>
    public bool IsBusy(long now, int maxInFlight) =>
        now < Volatile.Read(ref _busyUntil)
        || (maxInFlight > 0 && InFlight >= maxInFlight)
        || Instance.IsBusy;

    public void MarkUnhealthy(long until) => Volatile.Write(ref _unhealthyUntil, until);

    public void MarkHealthy() => Volatile.Write(ref _unhealthyUntil, 0);

    public void MarkBusy(long until) => Volatile.Write(ref _busyUntil, until);
}
