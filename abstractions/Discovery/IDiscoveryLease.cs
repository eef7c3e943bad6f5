namespace Plexus;

/// <summary>A registration in discovery. Disposing it removes the instance at once.</summary>
public interface IDiscoveryLease : IAsyncDisposable
{
    /// <summary>The registered instance as it stands now.</summary>
    Instance Instance { get; }

    /// <summary>How long the registration lasts without a renewal.</summary>
    TimeSpan TimeToLive { get; }

    /// <summary>Extends the lease by its time to live.</summary>
    /// <param name="cancellationToken">Cancels the renewal.</param>
    /// <returns>A task that completes when renewed.</returns>
    /// <exception cref="PlexusException">The lease was lost (expired or removed); register again.</exception>
    ValueTask RenewAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the instance's metadata (such as its load); watchers see an update.</summary>
    /// <param name="metadata">The new metadata.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>A task that completes when published.</returns>
    ValueTask UpdateAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);
}
