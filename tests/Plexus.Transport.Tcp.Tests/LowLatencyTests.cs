using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// Low-latency mode: where requests and callers run, that connection threads end with their connections, the cap, and
/// the handshake's and connect's limits on those threads. Connection threads are counted over the process, so these
/// tests run alone.
/// </summary>
[Collection(CountsThreadsCollection.Name)]
public sealed class LowLatencyTests : IDisposable
{
    private const string ServerThread = "Plexus TCP server connection";
    private const string ClientThread = "Plexus TCP client connection";

    private readonly CertificateFiles _files = new();
    private readonly Dictionary<byte, TaskCompletionSource> _waiting = [];
    private int _calls;

    public void Dispose() => _files.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task Requests_RunOnTheServersConnectionThread_AndTheCallerResumesOnTheClients()
    {
        // Connections of earlier tests (a flood of them, in the conformance kit) may still hold the process's cap.
        await NoConnectionThreadsAsync();
        var factory = new TcpTransportFactory(LowLatency(), TestCodecs.TwoPart());
        await using var server = factory.CreateServer();
        var target = ServeThreadName(server);
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();

        var (handler, caller) = await CallAsync(client, server.Address, target);

        Assert.Equal(ServerThread, handler);
        Assert.Equal(ClientThread, caller);
    }

    [Fact(Timeout = 60_000)]
    public async Task MutualTls_RunsOnConnectionThreadsToo()
    {
        await NoConnectionThreadsAsync();
        var serverOptions = LowLatency();
        serverOptions.Tls = new TcpTlsOptions
        {
            Enabled = true,
            CertificatePath = _files.ServerCertificatePath,
            KeyPath = _files.ServerKeyPath,
            CaPath = _files.CaPath,
            ClientCertificateRequired = true,
        };
        var clientOptions = LowLatency();
        clientOptions.Tls = new TcpTlsOptions { CaPath = _files.CaPath, CertificatePath = _files.ClientPfxPath, CertificatePassword = CertificateFiles.PfxPassword };
        await using var server = new TcpTransportFactory(serverOptions, TestCodecs.TwoPart()).CreateServer();
        var target = ServeThreadName(server);
        await server.StartAsync(CancellationToken.None);
        await using var client = new TcpTransportFactory(clientOptions, TestCodecs.TwoPart()).CreateClient();

        var (handler, caller) = await CallAsync(client, server.Address, target);

        Assert.Equal(ServerThread, handler);
        Assert.Equal(ClientThread, caller);
    }

    [Fact(Timeout = 60_000)]
    public async Task ConnectionThreads_EndWithTheirConnections_WhetherClosedGracefullyOrAborted()
    {
        // Those of earlier tests end first (a graceful close takes up to its grace): from here every one is this test's.
        await NoConnectionThreadsAsync();
        var factory = new TcpTransportFactory(LowLatency(), TestCodecs.TwoPart());
        var server = factory.CreateServer();
        var target = ServeThreadName(server);
        await server.StartAsync(CancellationToken.None);
        var clients = new[] { factory.CreateClient(), factory.CreateClient(), factory.CreateClient() };
        foreach (var client in clients)
        {
            await CallAsync(client, server.Address, target);
        }

        // Three connections, each with a thread at either end.
        Assert.Equal(6, ConnectionThreads.Running);
        Assert.Equal(OperatingSystem.IsLinux() ? 6 : 0, NamedConnectionThreads());

        // Two clients close their connections gracefully; the server aborts the last one as it stops.
        await clients[0].DisposeAsync();
        await clients[1].DisposeAsync();
        await WaitUntilAsync(() => ConnectionThreads.Running == 2);
        await server.DisposeAsync();
        await clients[2].DisposeAsync();

        await NoConnectionThreadsAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task ConnectionsBeyondTheCap_RunInTheDefaultMode_AndAreServedAlike()
    {
        await NoConnectionThreadsAsync();
        // One connection with a thread at either end holds the process's count at 2 or more, so a cap of 1 leaves no
        // room whatever else the process runs.
        var factory = new TcpTransportFactory(LowLatency(), TestCodecs.TwoPart());
        await using var server = factory.CreateServer();
        var target = ServeThreadName(server);
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        Assert.Equal((ServerThread, ClientThread), await CallAsync(client, server.Address, target));

        var capped = LowLatency();
        capped.LowLatencyMaxConnections = 1;
        var log = new LogCapture();
        var cappedFactory = new TcpTransportFactory(capped, TestCodecs.TwoPart(), log.Factory());
        await using var cappedServer = cappedFactory.CreateServer();
        var cappedTarget = ServeThreadName(cappedServer);
        await cappedServer.StartAsync(CancellationToken.None);
        await using var cappedClient = cappedFactory.CreateClient();

        var (handler, caller) = await CallAsync(cappedClient, cappedServer.Address, cappedTarget);

        Assert.NotEqual(ServerThread, handler);
        Assert.NotEqual(ClientThread, caller);
        Assert.Contains("LowLatencyMaxConnections", await log.WaitForAsync("TcpLowLatencyCapReached", Echo.Bound), StringComparison.Ordinal);
        Assert.Equal(2, log.Lines.Count(line => line.Contains("TcpLowLatencyCapReached", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task SilentConnector_IsDroppedAtTheHandshakeTimeout_AndItsThreadEnds()
    {
        var log = new LogCapture();
        var options = LowLatency();
        options.HandshakeTimeout = TimeSpan.FromMilliseconds(500);
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var silent = await RawWire.ConnectAsync(server.BoundEndPoint!);
        var started = Stopwatch.StartNew();
        var (bytes, closed) = await RawWire.ReadUntilClosedAsync(silent, TimeSpan.FromSeconds(10));

        Assert.True(closed, "The server kept a connection that never said anything.");
        Assert.Empty(bytes);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(300), $"Dropped after {started.Elapsed}, before the timeout: {string.Join(" | ", log.Lines)}");
        Assert.Contains("HandshakeTimeout", await log.WaitForAsync("no complete handshake", Echo.Bound), StringComparison.Ordinal);
        await NoConnectionThreadsAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task NothingListening_IsUnavailableBeforeFirstByte_AndTheConnectThreadEnds()
    {
        using var unused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        unused.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var address = new Uri($"tcp://127.0.0.1:{((IPEndPoint)unused.LocalEndPoint!).Port}");
        await using var client = new TcpTransportFactory(LowLatency(), TestCodecs.TwoPart()).CreateClient();
        var target = (new EndpointAddress("tcp", "tests", "nobody"), InstanceId.NewId());

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, address, Echo.Request(target, [1])));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("Could not connect", error.Message, StringComparison.Ordinal);
        await NoConnectionThreadsAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task BrokenFrameAfterAMessage_InTheSameRead_WakesTheWaitingCallerWithTheError()
    {
        // A fake server that answers the request with a message and, in the same segment, a frame of no known type.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var fake = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            var buffer = new byte[4096];
            await peer.ReceiveAsync(buffer);
            var accept = new ArrayBufferWriter<byte>();
            Handshake.WriteSettings(accept, Wire.Accept, PeerSettings.From(new TcpTransportOptions(), "twopart", server: true));
            await peer.SendAsync(accept.WrittenMemory);
            await peer.ReceiveAsync(buffer);
            var data = new byte[Wire.CommonHeaderLength];
            data[0] = (byte)FrameType.Data;
            data[1] = Wire.EndMessage;
            BitConverter.TryWriteBytes(data.AsSpan(2), 1u);
            await peer.SendAsync((byte[])[.. RawWire.Frame(data, "x"u8), .. RawWire.SimpleFrame((FrameType)0xEE, 0, 1)]);
            await RawWire.ReadUntilClosedAsync(peer, Echo.Bound);
        });
        await using var client = new TcpTransportFactory(LowLatency(), TestCodecs.TwoPart()).CreateClient();
        var address = new Uri($"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}");
        await using var stream = await client.SendAsync(address, Echo.Request((new EndpointAddress("tcp", "tests", "broken"), InstanceId.NewId()), [1]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);

        var error = await Assert.ThrowsAsync<PlexusException>(async () =>
        {
            while (await stream.MoveNextAsync().AsTask().WaitAsync(Echo.Bound))
            {
            }
        });

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("protocol error", error.Message, StringComparison.Ordinal);
        await fake.WaitAsync(Echo.Bound);
    }

    private static TcpTransportOptions LowLatency()
    {
        var options = TestOptions.Loopback();
        options.LowLatency = true;
        return options;
    }

    // An endpoint that answers with the name of the thread its handler started on, once the caller waits for it (the
    // request's only payload byte names the call, see CallAsync).
    private (EndpointAddress Endpoint, InstanceId Instance) ServeThreadName(IRequestPlaneServer server)
    {
        var endpoint = new EndpointAddress("tcp", "tests", "thread");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            var name = Thread.CurrentThread.Name ?? string.Empty;
            await Waiting(request.Payload.FirstSpan[0]).Task.WaitAsync(request.RequestAborted);
            await responses.WriteMessageAsync(System.Text.Encoding.UTF8.GetBytes(name), request.RequestAborted);
        }));
        return (endpoint, instance);
    }

    // The handler's thread, and the thread the caller resumed on once the response arrived (the test's own context
    // would otherwise take the continuation). The caller waits before the handler answers, so it is woken by the
    // response, not served from what had already arrived.
    private async Task<(string Handler, string Caller)> CallAsync(IRequestPlaneClient client, Uri address, (EndpointAddress, InstanceId) target)
    {
        var call = (byte)Interlocked.Increment(ref _calls);
        await using var stream = await client.SendAsync(address, Echo.Request(target, [call]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound).ConfigureAwait(false);
        var resumed = ResumedOnAsync(stream.MoveNextAsync());
        Waiting(call).TrySetResult();
        var caller = await resumed;
        var handler = System.Text.Encoding.UTF8.GetString(stream.Current.ToArray());
        Assert.False(await stream.MoveNextAsync().ConfigureAwait(false));
        return (handler, caller);
    }

    // Started before the handler may answer, so its continuation is in place when the answer arrives.
    private static async Task<string> ResumedOnAsync(ValueTask<bool> next)
    {
        Assert.True(await next.ConfigureAwait(false));
        return Thread.CurrentThread.Name ?? string.Empty;
    }

    private TaskCompletionSource Waiting(byte call)
    {
        lock (_waiting)
        {
            if (!_waiting.TryGetValue(call, out var waiting))
            {
                waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Add(call, waiting);
            }

            return waiting;
        }
    }

    // Threads of this process named as connection threads, as the system sees them (names are cut to 15 characters).
    private static int NamedConnectionThreads()
    {
        if (!Directory.Exists("/proc/self/task"))
        {
            return 0;
        }

        var count = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith("Plexus TCP ", StringComparison.Ordinal))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // The thread ended while it was looked at.
            }
        }

        return count;
    }

    private static Task NoConnectionThreadsAsync() =>
        WaitUntilAsync(() => ConnectionThreads.Running == 0 && NamedConnectionThreads() == 0);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Echo.Bound, "The condition did not hold in time.");
            await Task.Delay(20);
        }
    }
}
