using System.Threading.Channels;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// The token a caller passes to its reads acts on the read that waits with it (and gives up the request), is seen by
/// the next read that passes it when it was cancelled in between, and acts on nothing once the caller has moved on to
/// another token or the stream has ended.
/// </summary>
public sealed class ReadTokenTests
{
    [Fact(Timeout = 60_000)]
    public async Task OneTokenForEveryRead_CancelledWhileALaterReadWaits_CancelsTheRequest()
    {
        await using var served = await ServedStream.StartAsync();
        using var cancellation = new CancellationTokenSource();
        await using var stream = await served.OpenAsync();

        for (var i = 0; i < 3; i++)
        {
            // Each read waits for its message.
            var reading = stream.MoveNextAsync(cancellation.Token).AsTask();
            served.Release();
            Assert.True(await reading.WaitAsync(Echo.Bound));
            Assert.Equal(i, stream.Current.FirstSpan[0]);
        }

        var waiting = stream.MoveNextAsync(cancellation.Token).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Echo.Bound));
        await served.Aborted.Task.WaitAsync(Echo.Bound);
    }

    [Fact(Timeout = 60_000)]
    public async Task ATokenAnEarlierReadPassed_CancelledWhileAReadWaitsWithAnother_CancelsNothing()
    {
        await using var served = await ServedStream.StartAsync();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        await using var stream = await served.OpenAsync();

        var reading = stream.MoveNextAsync(first.Token).AsTask();
        served.Release();
        Assert.True(await reading.WaitAsync(Echo.Bound));

        var waiting = stream.MoveNextAsync(second.Token).AsTask();
        await Task.Delay(50);
        await first.CancelAsync();
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        Assert.False(served.Aborted.Task.IsCompleted);

        served.Release();
        Assert.True(await waiting.WaitAsync(Echo.Bound));
        Assert.Equal(1, stream.Current.FirstSpan[0]);
    }

    [Fact(Timeout = 60_000)]
    public async Task ATokenCancelledBetweenReads_FailsTheNextReadThatPassesIt()
    {
        await using var served = await ServedStream.StartAsync();
        using var cancellation = new CancellationTokenSource();
        await using var stream = await served.OpenAsync();

        var reading = stream.MoveNextAsync(cancellation.Token).AsTask();
        served.Release();
        Assert.True(await reading.WaitAsync(Echo.Bound));

        // No read waits: nothing is cancelled until a read passes the token again.
        await cancellation.CancelAsync();
        await Task.Delay(200);
        Assert.False(served.Aborted.Task.IsCompleted);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.MoveNextAsync(cancellation.Token).AsTask().WaitAsync(Echo.Bound));
        await served.Aborted.Task.WaitAsync(Echo.Bound);
    }

    [Fact(Timeout = 60_000)]
    public async Task ATokenCancelledAfterTheEnd_ChangesNothing()
    {
        await using var served = await ServedStream.StartAsync(messages: 1);
        using var cancellation = new CancellationTokenSource();
        await using var stream = await served.OpenAsync();

        var reading = stream.MoveNextAsync(cancellation.Token).AsTask();
        served.Release();
        Assert.True(await reading.WaitAsync(Echo.Bound));
        Assert.False(await stream.MoveNextAsync(cancellation.Token).AsTask().WaitAsync(Echo.Bound));

        // Cancelling afterwards reaches nothing; the stream ended cleanly and stays ended.
        await cancellation.CancelAsync();
        Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
    }

    // A server whose handler writes one message each time the test releases it, and says when its request is aborted.
    private sealed class ServedStream : IAsyncDisposable
    {
        private readonly Channel<bool> _releases = Channel.CreateUnbounded<bool>();
        private readonly TcpServer _server;
        private readonly IRequestPlaneClient _client;
        private readonly (EndpointAddress Endpoint, InstanceId Instance) _target;

        private ServedStream(TcpServer server, IRequestPlaneClient client, int messages)
        {
            _server = server;
            _client = client;
            _target = (new EndpointAddress("tcp", "tests", "released"), InstanceId.NewId());
            server.Register(_target.Endpoint, _target.Instance, new DelegateHandler(async (request, responses) =>
            {
                using var registration = request.RequestAborted.Register(() => Aborted.TrySetResult());
                for (var i = 0; i < messages; i++)
                {
                    await _releases.Reader.ReadAsync(request.RequestAborted);
                    await responses.WriteMessageAsync(new[] { (byte)i }, request.RequestAborted);
                }
            }));
        }

        public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<ServedStream> StartAsync(int messages = 100)
        {
            var factory = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart());
            var server = (TcpServer)factory.CreateServer();
            await server.StartAsync(CancellationToken.None);
            return new ServedStream(server, factory.CreateClient(), messages);
        }

        public async Task<IResponseStream> OpenAsync() =>
            await _client.SendAsync(_server.Address, Echo.Request(_target, [0]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);

        public void Release() => _releases.Writer.TryWrite(true);

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _server.DisposeAsync();
        }
    }
}
