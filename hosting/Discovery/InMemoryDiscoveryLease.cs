namespace Plexus.Hosting.Discovery;

/// <summary>A registration in <see cref="InMemoryDiscoveryProvider"/>, expired by a timer on the provider's clock.</summary>
internal sealed class InMemoryDiscoveryLease : IDiscoveryLease
{
    private readonly InMemoryDiscoveryProvider _provider;
    private ITimer? _timer;
    private Instance _instance;
    private long _expiresAtTicks;
    private int _disposed;

    public InMemoryDiscoveryLease(InMemoryDiscoveryProvider provider, Instance instance, TimeSpan timeToLive)
    {
        _provider = provider;
        _instance = instance;
        TimeToLive = timeToLive;
        ExpiresAt = provider.TimeProvider.GetUtcNow() + timeToLive;
    }

    public Instance Instance => Volatile.Read(ref _instance);

    public TimeSpan TimeToLive { get; }

    internal DateTimeOffset ExpiresAt
    {
        get => new(Interlocked.Read(ref _expiresAtTicks), TimeSpan.Zero);
        private set => Interlocked.Exchange(ref _expiresAtTicks, value.UtcTicks);
    }

    internal void StartTimer() =>
        _timer = _provider.TimeProvider.CreateTimer(
            static state => ((InMemoryDiscoveryLease)state!).OnTimer(), this, TimeToLive, Timeout.InfiniteTimeSpan);

    public ValueTask RenewAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var renewed = _provider.TryChange(this, () =>
        {
            var now = _provider.TimeProvider.GetUtcNow();
            if (ExpiresAt > now)
            {
                ExpiresAt = now + TimeToLive;
            }
        });

        // A lease found past its time is removed here rather than silently revived.
        if (!renewed || ExpiresAt <= _provider.TimeProvider.GetUtcNow())
        {
            _provider.TryRemove(this, onlyIfExpired: true);
            throw Lost();
        }

        _timer?.Change(TimeToLive, Timeout.InfiniteTimeSpan);
        return ValueTask.CompletedTask;
    }

    public ValueTask UpdateAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // Copied so a caller mutating its dictionary afterwards cannot change what watchers saw.
        var copy = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        var expired = false;
        var updated = _provider.TryChange(this, () =>
        {
            if (ExpiresAt <= _provider.TimeProvider.GetUtcNow())
            {
                expired = true;
                return;
            }

            Volatile.Write(ref _instance, _instance with { Metadata = copy });
        });

        if (!updated || expired)
        {
            _provider.TryRemove(this, onlyIfExpired: true);
            throw Lost();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _timer?.Dispose();
            _provider.TryRemove(this, onlyIfExpired: false);
        }

        return ValueTask.CompletedTask;
    }

    private void OnTimer()
    {
        if (!_provider.TryRemove(this, onlyIfExpired: true) && ExpiresAt > _provider.TimeProvider.GetUtcNow())
        {
            // Renewed between the timer firing and the check; wait for the new expiry.
            _timer?.Change(ExpiresAt - _provider.TimeProvider.GetUtcNow(), Timeout.InfiniteTimeSpan);
        }
    }

    private PlexusException Lost() => PlexusException.Unavailable(
        $"The discovery lease of {Instance.Endpoint} instance {Instance.Id} expired or was removed; register the instance again.");
}
