namespace Plexus.Abstractions.Tests.Toys;

/// <summary>A registration in <see cref="InMemoryDiscoveryProvider"/>.</summary>
internal sealed class InMemoryLease : IDiscoveryLease
{
    private readonly InMemoryDiscoveryProvider _provider;

    public InMemoryLease(InMemoryDiscoveryProvider provider, Instance instance, TimeSpan timeToLive)
    {
        _provider = provider;
        Instance = instance;
        TimeToLive = timeToLive;
        ExpiresAt = provider.Time.GetUtcNow() + timeToLive;
    }

    public Instance Instance { get; internal set; }

    public TimeSpan TimeToLive { get; }

    internal DateTimeOffset ExpiresAt { get; set; }

    public ValueTask RenewAsync(CancellationToken cancellationToken)
    {
        if (!_provider.TryRenew(this))
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The lease of instance {Instance.Id} was lost; register again.");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask UpdateAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!_provider.TryUpdate(this, Instance with { Metadata = new Dictionary<string, string>(metadata) }))
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The lease of instance {Instance.Id} was lost; register again.");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _provider.Remove(this);
        return ValueTask.CompletedTask;
    }
}
