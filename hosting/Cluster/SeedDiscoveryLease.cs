namespace Plexus.Hosting.Cluster;

/// <summary>A member's registration held by the seed; renewals and updates go over the control connection.</summary>
internal sealed class SeedDiscoveryLease(SeedDiscoveryProvider provider, SeedClient seed, Instance instance, TimeSpan timeToLive) : IDiscoveryLease
{
    private int _disposed;

    public Instance Instance { get; private set; } = instance;

    public TimeSpan TimeToLive { get; } = timeToLive;

    public async ValueTask RenewAsync(CancellationToken cancellationToken) =>
        await provider.Observe(seed.CallAsync(Request("renew-lease"), cancellationToken));

    public async ValueTask UpdateAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        await provider.Observe(seed.CallAsync(Request("update") with { Metadata = new Dictionary<string, string>(metadata) }, cancellationToken));
        Instance = Instance with { Metadata = new Dictionary<string, string>(metadata) };
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await seed.CallAsync(Request("remove"), timeout.Token);
    }

    private ControlRequest Request(string op) => new(op, Endpoint: Instance.Endpoint.ToString(), Id: Instance.Id.ToString());
}
