namespace Plexus.Hosting.Discovery;

/// <summary>
/// A registration in <see cref="FileDiscoveryProvider"/>: one file. Renewal rewrites the file with a new
/// <c>expiresAt</c> (rather than touching its modification time) so a file carries its whole truth and readers
/// need no second source of time; each rewrite is atomic.
/// </summary>
internal sealed class FileDiscoveryLease : IDiscoveryLease
{
    private readonly FileDiscoveryProvider _provider;
    private readonly Lock _gate = new();
    private DiscoveryFileRecord _record;
    private bool _disposed;

    public FileDiscoveryLease(FileDiscoveryProvider provider, DiscoveryFileRecord record, string path)
    {
        _provider = provider;
        _record = record;
        Path = path;
    }

    public Instance Instance
    {
        get
        {
            lock (_gate)
            {
                return _record.Instance;
            }
        }
    }

    public TimeSpan TimeToLive => _record.TimeToLive;

    internal string Path { get; }

    public ValueTask RenewAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            EnsureHeldLocked();
            _record = _record with { ExpiresAt = _provider.TimeProvider.GetUtcNow() + _record.TimeToLive };
            _provider.WriteAtomically(Path, _record.Serialize());
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask UpdateAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        lock (_gate)
        {
            EnsureHeldLocked();

            // An update publishes new facts but is not a renewal: the expiry stays.
            var updated = _record with { Instance = _record.Instance with { Metadata = copy } };
            _provider.WriteAtomically(Path, updated.Serialize());
            _record = updated;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;

            // Only delete the file while it is still ours; a newer registration of the same id must survive.
            if (_provider.ReadRecord(Path) is { } onDisk && onDisk.LeaseId == _record.LeaseId)
            {
                _provider.TryDelete(Path);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void EnsureHeldLocked()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var who = $"The discovery registration of {_record.Instance.Endpoint} instance {_record.Instance.Id} ({Path})";
        var onDisk = _provider.ReadRecord(Path);
        if (onDisk is null)
        {
            throw PlexusException.Unavailable($"{who} was removed by another process or is unreadable; register the instance again.");
        }

        if (onDisk.LeaseId != _record.LeaseId)
        {
            throw PlexusException.Unavailable($"{who} was replaced by another registration of the same instance id (process {onDisk.ProcessId}); register the instance again.");
        }

        if (_record.ExpiresAt <= _provider.TimeProvider.GetUtcNow())
        {
            // Readers already consider it gone; reviving it would flap. Clean up and make the owner register afresh.
            _provider.TryDelete(Path);
            throw PlexusException.Unavailable(
                $"{who} expired at {_record.ExpiresAt:O} before it was renewed; register the instance again and renew more often than every {_record.TimeToLive}.");
        }
    }
}
