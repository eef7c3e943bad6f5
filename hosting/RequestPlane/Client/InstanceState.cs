namespace Plexus.Hosting.RequestPlane.Client;

/// <summary>
/// What this client knows of one instance: the instance as discovery last showed it, the way this client reaches it, and
/// its own in-flight count and health.
/// </summary>
internal sealed class InstanceState
{
    private readonly Func<Instance, Instance?> _route;
    private View _current;
    private int _inFlight;
    private long _unhealthyUntil;
    private long _busyUntil;

    /// <param name="instance">The instance as discovery shows it.</param>
    /// <param name="route">Picks the one address this client uses (see <see cref="Routed"/>).</param>
    public InstanceState(Instance instance, Func<Instance, Instance?> route)
    {
        _route = route;
        _current = new View(instance, route(instance));
    }

    /// <summary>The instance as discovery last showed it, with every address it offers.</summary>
    public Instance Instance
    {
        get => Volatile.Read(ref _current).Instance;
        set => Volatile.Write(ref _current, new View(value, _route(value)));
    }

    /// <summary>
    /// The instance as this client reaches it: <see cref="Plexus.Instance.Transport"/> and <see cref="Plexus.Instance.Address"/>
    /// are the transport it chose among those the instance offers; null when no transport it offers is loaded here.
    /// </summary>
    public Instance? Routed => Volatile.Read(ref _current).Routed;

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

    /// <summary>Read and replaced together, so that a reader never sees one instance with another's route.</summary>
    private sealed record View(Instance Instance, Instance? Routed);
}
