using System.Buffers;
using System.Threading.Channels;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>One request in flight on the loopback transport: the handler's run and the channel its responses go through.</summary>
internal sealed class LoopbackCall
{
    private readonly OutgoingRequest _request;
    private readonly byte[] _payload;
    private readonly CancellationTokenSource _aborted;
    private readonly Channel<byte[]> _channel;
    private Task _completion = Task.CompletedTask;

    public LoopbackCall(OutgoingRequest request, int capacity, CancellationToken clientToken)
    {
        _request = request;

        // The contract lets the client reuse its payload once SendAsync returned, so the server keeps a copy.
        _payload = request.Payload.ToArray();
        _aborted = CancellationTokenSource.CreateLinkedTokenSource(clientToken);

        _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        Responses = new LoopbackResponseStream(_channel.Reader, this);
    }

    public IResponseStream Responses { get; }

    public Task Completion => _completion;

    public CancellationToken Aborted => _aborted.Token;

    public void Start(IRequestDispatcher dispatcher, Action finished)
    {
        var request = new IncomingRequest(_request.Endpoint, _request.Instance, _request.RequestId, new(_payload), _request.Headers, _request.Deadline, _aborted.Token);
        var writer = new LoopbackResponseWriter(_channel.Writer, _aborted.Token);
        _completion = Task.Run(async () =>
        {
            try
            {
                await dispatcher.DispatchAsync(request, writer);
            }
            finally
            {
                finished();
            }
        });
    }

    /// <summary>Cancels the request on the server side, as when the client goes away.</summary>
    public void Cancel() => _aborted.Cancel();

    /// <summary>Ends the request on the client with <paramref name="reason"/> and cancels the handler.</summary>
    public void Abort(string reason)
    {
        _channel.Writer.TryComplete(new PlexusException(PlexusErrorCode.Unavailable, reason));
        _aborted.Cancel();
    }
}
