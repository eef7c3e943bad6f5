namespace Plexus;

/// <summary>
/// What a handler's <see cref="IResponseWriter"/> also is when its client can pull response messages by bulk
/// transfer: a handler that already holds a message's bytes in a registered region (a cache block, a tensor) sends
/// its descriptor instead of copying the bytes. Messages written the usual way move by bulk transfer on their own
/// when they are large; this is only for bytes that are registered already.
/// </summary>
public interface IBulkResponseWriter : IResponseWriter
{
    /// <summary>The bulk transport the client pulls with, or <see langword="null"/> when it cannot: write the bytes instead.</summary>
    string? BulkTransport { get; }

    /// <summary>
    /// Ends a message whose bytes are those of a region registered with <see cref="BulkTransport"/> for reading. Nothing
    /// may have been written to the current message. The region must stay registered and unchanged until
    /// <paramref name="whenRead"/> runs: once the client has the bytes, or can no longer ask for them (its stream
    /// failed, or it did not ask within <c>Plexus:Bulk:HoldTimeout</c>).
    /// </summary>
    /// <param name="descriptor">The region's descriptor; its <see cref="BulkDescriptor.Length"/> is the message's length.</param>
    /// <param name="whenRead">Runs once, on any thread, when the region may be released; null when the caller does not need to know.</param>
    /// <exception cref="InvalidOperationException">The client cannot pull (check <see cref="BulkTransport"/>), or bytes were written to the current message.</exception>
    void EndMessage(BulkDescriptor descriptor, Action? whenRead);
}
