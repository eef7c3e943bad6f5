using System.Buffers;

namespace Plexus.Bench;

/// <summary>
/// The serving scenario's reference: the serving handler invoked directly in this process, as the transports'
/// dispatchers invoke it, with a response writer that takes each token as arriving the moment the handler ends it.
/// No transport, no connection: what is left is the handler, the pacer and the harness, so a subject's figures minus
/// these are what its transport adds.
/// </summary>
internal sealed class InProcessServing : IServingSubject
{
    public const string SubjectName = "in-process";

    private static readonly EndpointAddress Endpoint = new("bench", "plexus", "serving");
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    public string Name => SubjectName;

    public string? ServingNote => null;

    public ValueTask<IServingClient> OpenServingAsync(ServingPlan plan, ServingPacer pacer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(pacer);
        return ValueTask.FromResult<IServingClient>(new Client(new BenchServingHandler { Pacer = pacer }));
    }

    private sealed class Client(BenchServingHandler handler) : IServingClient
    {
        public async ValueTask RunStreamAsync(ServingRequest request, int connection, ServingLog log, CancellationToken cancellationToken)
        {
            log.Sent(request.Stream);
            var context = new RequestContext(Endpoint, request.Stream.ToString(System.Globalization.CultureInfo.InvariantCulture), new ReadOnlySequence<byte>(request.ToArray()), NoHeaders, null, cancellationToken);
            await handler.HandleAsync(context, new TokenWriter(request, log));
        }

        public ValueTask DisposeAsync()
        {
            handler.Pacer = null;
            return default;
        }
    }

    /// <summary>Takes the handler's tokens as they are ended, into one buffer per stream.</summary>
    private sealed class TokenWriter(ServingRequest request, ServingLog log) : IResponseWriter
    {
        private readonly byte[] _buffer = new byte[ServingSettings.MaxTokenBytes];
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(_written);

        public void EndMessage()
        {
            var sequence = log.Arrived(request.Stream);
            var token = _buffer.AsSpan(0, _written);
            _written = 0;
            if (!ServingToken.Matches(token, request.Stream, sequence, request.TokenBytes))
            {
                throw ServingToken.Unexpected(request.Stream, sequence);
            }
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => default;
    }
}
