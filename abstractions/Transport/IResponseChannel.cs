namespace Plexus;

/// <summary>
/// A transport's side of one response stream: the handler writes messages into it (<see cref="IResponseWriter"/>,
/// with the transport's flow control behind <see cref="IResponseWriter.FlushAsync"/>), and the dispatcher ends it.
/// </summary>
public interface IResponseChannel : IResponseWriter
{
    /// <summary>Whether a response message has been handed to the transport; from then on a failure can no longer be
    /// retried elsewhere, whatever the error says.</summary>
    bool HasResponded { get; }

    /// <summary>
    /// Ends the stream, once: with <see langword="null"/>, sends the messages ended but not yet flushed and then the
    /// end of the stream; with an error, sends the error with its code, message and
    /// <see cref="PlexusException.BeforeFirstByte"/>. Never throws: when the client has gone, it only releases what the
    /// stream holds.
    /// </summary>
    /// <param name="error">The error to end with, or <see langword="null"/> for a normal end.</param>
    /// <returns>A task that completes when the end is handed to the transport.</returns>
    ValueTask CompleteAsync(PlexusException? error);
}
