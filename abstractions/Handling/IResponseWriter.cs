using System.Buffers;

namespace Plexus;

/// <summary>
/// Writes a stream of response messages without an allocation per message: write a message's bytes through
/// <see cref="IBufferWriter{T}"/>, close it with <see cref="EndMessage"/>, and send what is buffered with
/// <see cref="FlushAsync"/>, which waits while the client is slower than the handler (back-pressure).
/// </summary>
public interface IResponseWriter : IBufferWriter<byte>
{
    /// <summary>Ends the current message: the bytes advanced since the previous call form one message (possibly empty).</summary>
    void EndMessage();

    /// <summary>Sends the ended messages; waits while the client has no room for more.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the messages are handed to the transport.</returns>
    /// <exception cref="PlexusException">The request was cancelled or the connection lost.</exception>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}
