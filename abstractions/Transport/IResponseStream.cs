using System.Buffers;

namespace Plexus;

/// <summary>
/// The responses of one request, read one message at a time. Disposing before the end cancels the request on the
/// server.
/// </summary>
public interface IResponseStream : IAsyncDisposable
{
    /// <summary>The current message; valid until the next <see cref="MoveNextAsync"/> or <see cref="IAsyncDisposable.DisposeAsync"/>.</summary>
    ReadOnlySequence<byte> Current { get; }

    /// <summary>Waits for the next message.</summary>
    /// <param name="cancellationToken">Cancelling it cancels the request.</param>
    /// <returns><see langword="true"/> with a message in <see cref="Current"/>; <see langword="false"/> at the end of the stream.</returns>
    /// <exception cref="PlexusException">The request failed; <see cref="PlexusException.Code"/> says how.</exception>
    ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default);
}
