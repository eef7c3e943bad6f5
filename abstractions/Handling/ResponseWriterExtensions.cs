namespace Plexus;

/// <summary>Conveniences over <see cref="IResponseWriter"/>.</summary>
public static class ResponseWriterExtensions
{
    /// <summary>Writes one whole message and flushes it.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="message">The message bytes.</param>
    /// <param name="cancellationToken">Cancels the wait for room.</param>
    /// <returns>A task that completes when the message is handed to the transport.</returns>
    public static ValueTask WriteMessageAsync(this IResponseWriter writer, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteMessage(writer, message.Span);
        return writer.FlushAsync(cancellationToken);
    }

    /// <summary>Writes one whole message without flushing, so that several go out together.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="message">The message bytes.</param>
    public static void WriteMessage(this IResponseWriter writer, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        while (!message.IsEmpty)
        {
            var span = writer.GetSpan(1);
            var n = Math.Min(span.Length, message.Length);
            message[..n].CopyTo(span);
            writer.Advance(n);
            message = message[n..];
        }

        writer.EndMessage();
    }
}
