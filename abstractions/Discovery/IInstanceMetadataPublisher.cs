namespace Plexus;

/// <summary>
/// Publishes facts about the instances this node serves, as metadata of their discovery registrations: every client
/// watching the endpoint sees an update, and its router strategy reads the new <see cref="Instance.Metadata"/> from the
/// candidates it is given. The host registers one; a handler injects it. Since abstractions 2.7.
/// </summary>
public interface IInstanceMetadataPublisher
{
    /// <summary>
    /// Sets one metadata key, or removes it, on every instance of <paramref name="endpoint"/> that this node serves,
    /// and publishes the change through discovery. Updates replace whole values: a later call wins, and a watcher that
    /// missed one sees the next.
    /// </summary>
    /// <param name="endpoint">The endpoint as served (for a handler, <see cref="RequestContext.Endpoint"/>).</param>
    /// <param name="key">The metadata key; the host's own keys (<see cref="InstanceMetadataKeys.Node"/>, the bulk and capability keys) are refused.</param>
    /// <param name="value">The new value, or null to remove the key.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>True when an instance of the endpoint is served here and the update was published; false otherwise.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or one the host owns.</exception>
    ValueTask<bool> SetAsync(EndpointAddress endpoint, string key, string? value, CancellationToken cancellationToken);
}
