namespace Plexus.Bench;

/// <summary>
/// The serving endpoint: answers a <see cref="ServingRequest"/> with its tokens, the first at once (prefill costs
/// nothing here) and each next one when the shared pacer says it is due, ending and flushing every token as an LLM
/// server streams them.
/// </summary>
internal sealed class BenchServingHandler : IEndpointHandler
{
    private ServingPacer? _pacer;

    /// <summary>The pacer of the measurement running now.</summary>
    public ServingPacer? Pacer
    {
        get => Volatile.Read(ref _pacer);
        set => Volatile.Write(ref _pacer, value);
    }

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);
        var pacer = Pacer ?? throw new InvalidOperationException("A serving request came with no serving measurement running.");
        var serving = ServingRequest.Read(request.Payload);
        var cancellationToken = request.RequestAborted;
        using var paced = pacer.OpenStream(serving.Stream, cancellationToken);
        for (var sequence = 0; sequence < serving.Tokens; sequence++)
        {
            if (sequence > 0)
            {
                await paced.NextAsync();
            }

            ServingToken.Write(responses.GetSpan(serving.TokenBytes)[..serving.TokenBytes], serving.Stream, sequence);
            responses.Advance(serving.TokenBytes);
            responses.EndMessage();
            await responses.FlushAsync(cancellationToken);
        }
    }
}
