namespace Plexus.Transport.Conformance;

/// <summary>
/// Writes messages of <c>messageBytes</c> as fast as <see cref="IResponseWriter.FlushAsync"/> lets it, forever, and
/// counts the bytes of every message whose flush completed. Ends only when a write fails; records how.
/// </summary>
internal sealed class SlowWriterHandler(int messageBytes) : IEndpointHandler
{
    private long _written;

    public long Written => Interlocked.Read(ref _written);

    public TaskCompletionSource<Exception> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        try
        {
            for (var i = 0; ; i++)
            {
                responses.GetSpan(messageBytes)[..messageBytes].Fill((byte)i);
                responses.Advance(messageBytes);
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
                Interlocked.Add(ref _written, messageBytes);
            }
        }
        catch (Exception exception)
        {
            Ended.TrySetResult(exception);
            throw;
        }
    }
}
