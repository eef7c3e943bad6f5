using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>Keep-alive, go-away, IPv6, per-stream limits, one shared connection.</summary>
public sealed class ConnectionTests
{
    [Fact(Timeout = 60_000)]
    public async Task DeadPeer_IsDetectedByKeepAlive_InFlightFailsUnavailable_AndTheNextRequestReconnects()
    {
        // A fake server that completes the handshake and then says nothing, not even PONG: a peer that died silently.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var accepted = 0;
        var fake = Task.Run(async () =>
        {
            var peers = new List<Socket>();
            try
            {
                while (true)
                {
                    var peer = await listener.AcceptAsync();
                    peers.Add(peer);
                    Interlocked.Increment(ref accepted);
                    var hello = new byte[512];
                    await peer.ReceiveAsync(hello);
                    var accept = new ArrayBufferWriter<byte>();
                    Handshake.WriteSettings(accept, Wire.Accept, PeerSettings.From(new TcpTransportOptions(), "twopart", server: true));
                    await peer.SendAsync(accept.WrittenMemory);
                }
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                foreach (var peer in peers)
                {
                    peer.Dispose();
                }
            }
        });

        var options = TestOptions.Loopback();
        options.KeepAliveInterval = TimeSpan.FromMilliseconds(100);
        options.KeepAliveTimeout = TimeSpan.FromMilliseconds(600);
        await using var client = new TcpTransportFactory(options, TestCodecs.TwoPart()).CreateClient();
        var address = new Uri($"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}");
        var target = (new EndpointAddress("tcp", "tests", "silent"), InstanceId.NewId());

        var stream = await client.SendAsync(address, Echo.Request(target, [1]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        var error = await Assert.ThrowsAsync<PlexusException>(() => stream.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        await stream.DisposeAsync();

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("KeepAliveTimeout", error.Message, StringComparison.Ordinal);

        // The dead connection is forgotten: the next request opens a new one.
        await using var again = await client.SendAsync(address, Echo.Request(target, [2]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        Assert.Equal(2, Volatile.Read(ref accepted));
        listener.Close();
        await fake.WaitAsync(Echo.Bound);
    }

    [Fact(Timeout = 60_000)]
    public async Task GoAway_RefusesNewStreamsBeforeFirstByte_WhileInFlightOnesFinish()
    {
        var factory = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart());
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gatedEndpoint = new EndpointAddress("tcp", "tests", "gated");
        var gatedInstance = InstanceId.NewId();
        server.Register(gatedEndpoint, gatedInstance, new DelegateHandler(async (request, responses) =>
        {
            started.TrySetResult();
            await release.Task.WaitAsync(request.RequestAborted);
            await responses.WriteMessageAsync("done"u8.ToArray(), request.RequestAborted);
        }));
        var echo = Echo.Serve(server);

        await using var inFlight = await client.SendAsync(server.Address, Echo.Request((gatedEndpoint, gatedInstance), [1]), CancellationToken.None);
        await started.Task.WaitAsync(Echo.Bound);
        var drain = server.DrainAsync(CancellationToken.None).AsTask();

        var refused = await WaitForRefusalAsync(client, server.Address, Echo.Request(echo, [2]));
        Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
        Assert.True(refused.BeforeFirstByte);
        Assert.False(drain.IsCompleted);

        release.SetResult();
        Assert.True(await inFlight.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        Assert.Equal("done"u8.ToArray(), inFlight.Current.ToArray());
        Assert.False(await inFlight.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        await drain.WaitAsync(Echo.Bound);
    }

    [Fact(Timeout = 60_000)]
    public async Task IPv6Loopback_ServesRequests()
    {
        var factory = new TcpTransportFactory(TestOptions.Loopback("[::1]:0"), TestCodecs.TwoPart());
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var echo = Echo.Serve(server);

        Assert.Equal("[::1]", server.Address.Host);
        Assert.Equal("v6"u8.ToArray(), Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, "v6"u8.ToArray()))));
    }

    [Fact(Timeout = 60_000)]
    public async Task DualStackBind_ServesIPv4Clients_AndAdvertisedAddressIsSeparate()
    {
        var options = TestOptions.Loopback("[::]:0");
        options.AdvertisedAddress = "node-7.example";
        var factory = new TcpTransportFactory(options, TestCodecs.TwoPart());
        await using var server = (TcpServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var echo = Echo.Serve(server);

        Assert.Equal("node-7.example", server.Address.Host);
        Assert.Equal(server.BoundEndPoint!.Port, server.Address.Port);
        var viaIPv4 = new Uri($"tcp://127.0.0.1:{server.BoundEndPoint.Port}");
        Assert.Equal("v4"u8.ToArray(), Assert.Single(await Echo.CallAsync(client, viaIPv4, Echo.Request(echo, "v4"u8.ToArray()))));
    }

    [Fact(Timeout = 60_000)]
    public async Task ManyRequests_ShareOneConnection()
    {
        var factory = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart());
        await using var server = (TcpServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var echo = Echo.Serve(server);

        var calls = new Task[200];
        for (var i = 0; i < calls.Length; i++)
        {
            // On the thread pool: xunit's synchronization context starts a thread per continuation posted to it.
            var request = Echo.Request(echo, [(byte)i]);
            calls[i] = Task.Run(() => Echo.CallAsync(client, server.Address, request));
        }

        await Task.WhenAll(calls).WaitAsync(Echo.Bound);
        Assert.Equal(1, server.SessionCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task PayloadOverTheServersLimit_FailsThatStreamOnly_AndTheConnectionCarriesOn()
    {
        var small = TestOptions.Loopback();
        small.MaxPayloadBytes = 100_000;
        await using var server = (TcpServer)new TcpTransportFactory(small, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        var echo = Echo.Serve(server);
        var streamEndpoint = new EndpointAddress("tcp", "tests", "slow-stream");
        var streamInstance = InstanceId.NewId();
        server.Register(streamEndpoint, streamInstance, new DelegateHandler(async (request, responses) =>
        {
            for (var i = 0; i < 20; i++)
            {
                await responses.WriteMessageAsync(new byte[] { (byte)i }, request.RequestAborted);
                await Task.Delay(10, request.RequestAborted);
            }
        }));

        await using var running = await client.SendAsync(server.Address, Echo.Request((streamEndpoint, streamInstance), [0]), CancellationToken.None);
        Assert.True(await running.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, new byte[200_000])));
        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains("Plexus:Transports:Tcp:MaxPayloadBytes", error.Message, StringComparison.Ordinal);

        var count = 1;
        while (await running.MoveNextAsync().AsTask().WaitAsync(Echo.Bound))
        {
            Assert.Equal(count, running.Current.FirstSpan[0]);
            count++;
        }

        Assert.Equal(20, count);
        Assert.Equal([5], Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, [5]))));
        Assert.Equal(1, server.SessionCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task PayloadOverTheServersLimit_LargerThanTheStreamWindow_FailsWithoutWaitingForCredit()
    {
        var small = TestOptions.Loopback();
        small.MaxPayloadBytes = 100_000;
        await using var server = (TcpServer)new TcpTransportFactory(small, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        var echo = Echo.Serve(server);

        // Several stream windows: the refused stream never gets more credit, so the sender must stop at the refusal.
        var payload = new byte[3 * new TcpTransportOptions().StreamWindowBytes];
        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, payload)));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains("Plexus:Transports:Tcp:MaxPayloadBytes", error.Message, StringComparison.Ordinal);
        Assert.Equal([5], Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, [5]))));
        Assert.Equal(1, server.SessionCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task HeadersOverTheFrameHeaderLimit_FailThatRequest_WithoutTouchingTheConnection()
    {
        var factory = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart());
        await using var server = (TcpServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var echo = Echo.Serve(server);
        Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, [1])));

        var huge = new Dictionary<string, string> { ["x-big"] = new string('a', 60_000), ["x-big-2"] = new string('b', 10_000) };
        var request = new OutgoingRequest(echo.Endpoint, echo.Instance, "big-headers", new ReadOnlySequence<byte>([1]), huge, null);
        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, request));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains("MaxFrameHeaderBytes", error.Message, StringComparison.Ordinal);
        Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, [2])));
        Assert.Equal(1, server.SessionCount);
    }

    private static async Task<PlexusException> WaitForRefusalAsync(IRequestPlaneClient client, Uri address, OutgoingRequest probe)
    {
        var giveUp = DateTime.UtcNow + Echo.Bound;
        while (DateTime.UtcNow < giveUp)
        {
            try
            {
                await Echo.CallAsync(client, address, probe with { RequestId = Guid.NewGuid().ToString("N") });
            }
            catch (PlexusException refused)
            {
                return refused;
            }

            await Task.Delay(10);
        }

        Assert.Fail("The draining server kept taking new requests.");
        return null!;
    }
}
