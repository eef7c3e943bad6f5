namespace Plexus;

/// <summary>
/// Where instances announce themselves and clients find them. Chosen by <c>Plexus:Discovery:Provider</c>.
/// </summary>
public interface IDiscoveryProvider
{
    /// <summary>The provider's name, such as <c>file</c>.</summary>
    string Name { get; }

    /// <summary>Registers an instance under a lease; it vanishes unless the lease is renewed within its time to live.</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="timeToLive">How long the registration lasts without a renewal.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>The lease.</returns>
    ValueTask<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>
    /// Watches an endpoint's instances: first one <see cref="DiscoveryEventKind.Added"/> event per instance already there,
    /// then changes as they happen, until <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="cancellationToken">Ends the watch.</param>
    /// <returns>The events.</returns>
    IAsyncEnumerable<DiscoveryEvent> WatchAsync(EndpointAddress endpoint, CancellationToken cancellationToken);

    /// <summary>
    /// How the provider is doing: <see cref="HealthStatus.Degraded"/> while something it depends on (a server, a shared
    /// directory) cannot be reached, with a sentence saying what is affected and what to do. A node reports it on
    /// <c>/health</c> beside the outcome of its renewals. Since 2.3; by default always healthy, for providers with nothing
    /// that can fail apart from their calls.
    /// </summary>
    TransportHealth Health => TransportHealth.Healthy;

    /// <summary>Lists the live instances of one endpoint, or of all endpoints.</summary>
    /// <param name="endpoint">The endpoint, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The instances.</returns>
    ValueTask<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint, CancellationToken cancellationToken);
}
