namespace Plexus.Discovery.Etcd;

/// <summary>
/// One registered instance. The etcd lease under it belongs to the node (<see cref="EtcdSession"/>), which keeps it alive
/// and replaces it if it is lost, so <see cref="RenewAsync"/> only confirms that this registration still holds its key.
/// </summary>
internal sealed class EtcdDiscoveryLease(EtcdSession session, EtcdRegistration registration) : IDiscoveryLease
{
    public Instance Instance => session.Current(registration);

    public TimeSpan TimeToLive => TimeSpan.FromSeconds(session.TtlSeconds);

    internal EtcdRegistration Registration => registration;

    /// <summary>
    /// Succeeds while this registration is the process's registration of its instance, whether or not etcd answers now:
    /// the node's lease is renewed by the provider, which also publishes the instance again when etcd comes back or the
    /// lease was lost. Fails once the same instance id was registered again in this process.
    /// </summary>
    public ValueTask RenewAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        session.EnsureHeld(registration);
        return ValueTask.CompletedTask;
    }

    public ValueTask UpdateAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return session.UpdateAsync(registration, metadata, cancellationToken);
    }

    public ValueTask DisposeAsync() => session.UnregisterAsync(registration);
}
