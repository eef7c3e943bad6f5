namespace Plexus;

/// <summary>The calling side of a transport. Safe for concurrent use; shares connections across requests.</summary>
public interface IRequestPlaneClient : IAsyncDisposable
{
    /// <summary>The client's health.</summary>
    TransportHealth Health { get; }

    /// <summary>
    /// Sends one request to the instance at <paramref name="address"/> and returns its response stream.
    /// The transport is finished with the request's payload when the returned task completes.
    /// </summary>
    /// <param name="address">The instance's transport address (<see cref="Instance.Address"/>).</param>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the request for as long as it runs, also while its responses are read.</param>
    /// <returns>The response stream.</returns>
    /// <exception cref="PlexusException">The request could not be sent; <see cref="PlexusException.BeforeFirstByte"/> says whether it may go elsewhere.</exception>
    ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken);
}
