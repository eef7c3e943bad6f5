using System.Buffers;
using System.Collections.Concurrent;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// In the default mode, what one read brings runs on one work item: the requests it completes start in turn on one
/// thread, in the order they came, and so do the callers whose streams it ends. A handler that blocks delays only the
/// requests after it in its read, never the connection.
/// </summary>
public sealed class ReadBatchTests
{
    private const int Count = 8;

    private static readonly (EndpointAddress Endpoint, InstanceId Instance) Target = (new EndpointAddress("a", "b", "c"), InstanceId.NewId());

    [Fact(Timeout = 60_000)]
    public async Task RequestsOfOneRead_StartInTurnOnOneThread_InTheOrderTheyCame()
    {
        await using var server = await StartAsync();
        var started = new ConcurrentQueue<(byte Payload, int Thread)>();
        var target = Serve(server, (request, responses) =>
        {
            var payload = request.Payload.ToArray();
            started.Enqueue((payload[0], Environment.CurrentManagedThreadId));
            return responses.WriteMessageAsync(payload, request.RequestAborted);
        });
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!);

        for (var round = 0; round < 3; round++)
        {
            started.Clear();
            var first = (uint)(round * Count * 2) + 1;
            var frames = Enumerable.Range(0, Count).SelectMany(i => RawWire.RequestFrame(first + (uint)(2 * i), Echo.Request(target, [(byte)i]))).ToArray();
            await peer.SendAsync(frames);
            var ended = await EndsAsync(peer, Count);
            Assert.Equal(Enumerable.Range(0, Count).Select(i => first + (uint)(2 * i)).Order(), ended.Order());

            var order = started.ToArray();
            Assert.Equal(Enumerable.Range(0, Count).Select(i => (byte)i), order.Select(s => s.Payload));
            Assert.Single(order.Select(s => s.Thread).Distinct());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task HandlerThatBlocksBeforeItsFirstAwait_DelaysOnlyTheRequestsAfterItInItsRead()
    {
        await using var server = await StartAsync();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var target = Serve(server, (request, responses) =>
        {
            var payload = request.Payload.ToArray();
            if (payload[0] == 0)
            {
                entered.Set();
                release.Wait(Echo.Bound);
            }

            return responses.WriteMessageAsync(payload, request.RequestAborted);
        });
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!);
        await peer.SendAsync([.. RawWire.RequestFrame(1, Echo.Request(target, [0])), .. RawWire.RequestFrame(3, Echo.Request(target, [1]))]);
        Assert.True(entered.Wait(Echo.Bound), "the blocking handler never ran");

        // A request of a later read is served while the handler blocks its thread.
        await peer.SendAsync(RawWire.RequestFrame(5, Echo.Request(target, [2])));
        Assert.Equal([5u], await EndsAsync(peer, 1));

        // Released, the blocked request and the one after it in its read are answered.
        release.Set();
        Assert.Equal([1u, 3u], (await EndsAsync(peer, 2)).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task CallersWhoseStreamsOneReadEnds_RunInTurnOnOneThread_InTheOrderOfTheirFrames()
    {
        await using var fake = new FakeServer();
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        var woken = new ConcurrentQueue<(byte Payload, int Thread)>();
        var first = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request(Target, [99])));
        await fake.AcceptAsync(_ => FakeServer.Accept(Wire.EndInFrameVersion));
        await fake.ReadUntilAsync(FrameType.Request);
        await fake.SendAsync(RawWire.DataFrame(1, Wire.EndMessage | Wire.EndStream, [99]));
        await first.WaitAsync(Echo.Bound);

        var callers = Enumerable.Range(0, Count).Select(i => Task.Run(async () =>
        {
            await using var stream = await client.SendAsync(fake.Address, Echo.Request(Target, [(byte)i]), CancellationToken.None);
            Assert.True(await stream.MoveNextAsync());
            woken.Enqueue((stream.Current.ToArray()[0], Environment.CurrentManagedThreadId));
            Assert.False(await stream.MoveNextAsync());
        })).ToArray();
        var ids = new List<uint>();
        for (var i = 0; i < Count; i++)
        {
            var (request, _) = await fake.ReadUntilAsync(FrameType.Request);
            ids.Add(request.StreamId);
        }

        // Every caller waits (each has sent its request and is reading) before one write answers them all.
        await Task.Delay(200);
        await fake.SendAsync([.. ids.SelectMany((id, i) => RawWire.DataFrame(id, Wire.EndMessage | Wire.EndStream, [(byte)(100 + i)]))]);
        await Task.WhenAll(callers).WaitAsync(Echo.Bound);

        var order = woken.ToArray();
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (byte)(100 + i)), order.Select(w => w.Payload));
        Assert.Single(order.Select(w => w.Thread).Distinct());
    }

    // The streams of the next END frames, in the order they come.
    private static async Task<List<uint>> EndsAsync(RawPeer peer, int count)
    {
        var ended = new List<uint>();
        while (ended.Count < count)
        {
            var (header, _) = await peer.ReadAsync();
            if (header.Type == FrameType.End)
            {
                ended.Add(header.StreamId);
            }
        }

        return ended;
    }

    private static (EndpointAddress Endpoint, InstanceId Instance) Serve(IRequestPlaneServer server, Func<RequestContext, IResponseWriter, ValueTask> handle)
    {
        server.Register(Target.Endpoint, Target.Instance, new DelegateHandler(handle));
        return Target;
    }

    private static async Task<TcpServer> StartAsync()
    {
        var server = (TcpServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        return server;
    }
}
