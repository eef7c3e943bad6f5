using System.Buffers;

namespace Plexus;

/// <summary>
/// Calls endpoints of the request plane, wherever they are served: discovery finds the instances, the configured
/// router strategy picks one, and its transport carries the request and the response stream. A request that fails
/// before any response arrived is retried on another instance. Inject it anywhere; it is safe for concurrent use.
/// </summary>
public interface IPlexusClient
{
    /// <summary>Calls <paramref name="endpoint"/> and returns its response stream, positioned before the first message.</summary>
    /// <param name="endpoint">The endpoint to call.</param>
    /// <param name="payload">The request payload; the client is done with it when the returned task completes.</param>
    /// <param name="options">Headers, timeout and instance; null for <see cref="CallOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the call, also while its responses are read; the handler sees it.</param>
    /// <returns>The response stream; dispose it when done, or to cancel the rest.</returns>
    /// <exception cref="PlexusException">No instance could take the request, or it failed before its stream began:
    /// <see cref="PlexusErrorCode.Unavailable"/>, <see cref="PlexusErrorCode.Overloaded"/>, <see cref="PlexusErrorCode.Timeout"/>, ….</exception>
    ValueTask<IResponseStream> CallAsync(EndpointAddress endpoint, ReadOnlySequence<byte> payload, CallOptions? options = null, CancellationToken cancellationToken = default);
}
