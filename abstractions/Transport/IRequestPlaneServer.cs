namespace Plexus;

/// <summary>
/// The serving side of a transport: one listener that carries the requests of every endpoint registered on it.
/// <see cref="IAsyncDisposable.DisposeAsync"/> stops at once and fails in-flight requests on their clients with
/// <see cref="PlexusErrorCode.Unavailable"/>; <see cref="DrainAsync"/> is the graceful stop.
/// </summary>
public interface IRequestPlaneServer : IAsyncDisposable
{
    /// <summary>The address clients send to (the advertised address); valid once <see cref="StartAsync"/> completed.</summary>
    Uri Address { get; }

    /// <summary>The server's health.</summary>
    TransportHealth Health { get; }

    /// <summary>Binds and starts accepting requests.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the server accepts requests.</returns>
    ValueTask StartAsync(CancellationToken cancellationToken);

    /// <summary>Serves <paramref name="endpoint"/> as instance <paramref name="instance"/> with <paramref name="handler"/>.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance id requests must name; a request naming another id is refused as unavailable.</param>
    /// <param name="handler">The handler.</param>
    /// <exception cref="InvalidOperationException">The endpoint is already registered.</exception>
    void Register(EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler);

    /// <summary>Stops serving an endpoint; new requests to it are refused, in-flight ones finish.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns><see langword="true"/> if it was registered.</returns>
    bool Unregister(EndpointAddress endpoint);

    /// <summary>Stops taking new requests, lets in-flight ones finish, then closes.</summary>
    /// <param name="cancellationToken">When it fires, the remaining in-flight requests are aborted and the server closes.</param>
    /// <returns>A task that completes when the server is closed.</returns>
    ValueTask DrainAsync(CancellationToken cancellationToken);
}
