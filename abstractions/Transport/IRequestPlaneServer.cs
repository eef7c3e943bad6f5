namespace Plexus;

/// <summary>
/// The serving side of a transport: one listener that carries the requests of every endpoint served by the process.
/// It turns wire requests into calls on the <see cref="IRequestDispatcher"/> the core hands it and carries each
/// response stream back with its flow control; the core owns everything else (Kestrel's split: the transport
/// accepts, the core dispatches). <see cref="IAsyncDisposable.DisposeAsync"/> closes at once: requests still in flight
/// see <see cref="IncomingRequest.Aborted"/> fire and fail on their clients with <see cref="PlexusErrorCode.Unavailable"/>.
/// </summary>
public interface IRequestPlaneServer : IAsyncDisposable
{
    /// <summary>The address clients send to (the advertised address); valid once <see cref="StartAsync"/> completed.</summary>
    Uri Address { get; }

    /// <summary>The server's health.</summary>
    TransportHealth Health { get; }

    /// <summary>Binds and starts handing every request it receives to <paramref name="dispatcher"/>.</summary>
    /// <param name="dispatcher">Takes, runs and ends every request.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the server accepts requests.</returns>
    ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken);

    /// <summary>
    /// Stops taking new requests and tells peers so where the protocol can (a go-away, an unsubscribe), so that they
    /// send new requests elsewhere; requests already in flight carry on until the core disposes the server.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for peers to be told.</param>
    /// <returns>A task that completes when no new request will reach the dispatcher: every request admitted before the
    /// call has been handed to <see cref="IRequestDispatcher.DispatchAsync"/> (so the core's drain waits for it) or refused.</returns>
    ValueTask StopAcceptingAsync(CancellationToken cancellationToken);
}
