using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A peer that sends and never reads (issue 8): what it is owed stays within MaxQueuedControlBytes, the server stops
/// reading it (TCP then stops its sends), closes it after StalledPeerTimeout with a logged reason, and its memory
/// comes back. A healthy client beside it is served throughout.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class StalledPeerTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    // What a connection may owe beyond the bound: the reply to the frame that crossed it (an ERROR carries at most
    // 4 KiB of message), keep-alive pings, and a stream's credit; rounded up.
    private const long Slack = 64 * 1024;

    private static readonly TimeSpan StalledPeerTimeout = TimeSpan.FromSeconds(2);

    public enum Flood
    {
        Pings,
        UnknownEndpointRequests,
    }

    [Theory(Timeout = 120_000)]
    [InlineData(Flood.Pings)]
    [InlineData(Flood.UnknownEndpointRequests)]
    public async Task PeerThatSendsWithoutReading_IsHeldBackByTcp_ClosedAfterTheTimeout_AndItsMemoryComesBack(Flood kind)
    {
        var log = new LogCapture();
        var options = TestOptions.Loopback();
        options.StalledPeerTimeout = StalledPeerTimeout;
        var factory = new TcpTransportFactory(options, TestCodecs.TwoPart(), log.Factory());
        await using var server = (TcpServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = Echo.Serve(server);
        await using var healthy = factory.CreateClient();
        var payload = new byte[1000];
        Assert.Equal(payload, Assert.Single(await Echo.CallAsync(healthy, server.Address, Echo.Request(echo, payload))));
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var started = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(40);
        await using var flood = kind == Flood.Pings
            ? RawFlood.Pings(server.BoundEndPoint!, reconnect: false, limit)
            : RawFlood.UnknownEndpointRequests(server.BoundEndPoint!, reconnect: false, limit);
        long worstQueued = 0;
        long worstGrowth = 0;
        var paused = false;
        var calls = 0;
        var nextMeasure = TimeSpan.Zero;
        while (!flood.Completion.IsCompleted && started.Elapsed < limit)
        {
            worstQueued = Math.Max(worstQueued, server.QueuedControlBytes);
            paused |= IsAnyReaderPaused(server);
            Assert.Equal(payload, Assert.Single(await Echo.CallAsync(healthy, server.Address, Echo.Request(echo, payload))));
            calls++;
            if (started.Elapsed >= nextMeasure)
            {
                worstGrowth = Math.Max(worstGrowth, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                nextMeasure = started.Elapsed + TimeSpan.FromMilliseconds(500);
            }

            await Task.Delay(5);
        }

        output.WriteLine($"{kind}: {flood.SentBytes / 1024} KiB sent before the server closed the connection after {started.Elapsed.TotalSeconds:F1} s; worst queued control {worstQueued / 1024} KiB; worst heap growth {worstGrowth / 1024} KiB; {calls} healthy calls.");

        // Held back, then closed, with the reason logged.
        Assert.Equal(1, flood.ClosedByServer);
        Assert.True(paused, "The server never stopped reading from the peer that did not read.");
        Assert.True(
            worstQueued <= options.MaxQueuedControlBytes + Slack,
            $"{worstQueued} bytes of control frames waited for the peer; the bound is {options.MaxQueuedControlBytes} (+{Slack}).");
        Assert.True(
            flood.SentBytes < 64 * MiB,
            $"The peer got {flood.SentBytes / MiB} MiB into the server although the server stopped reading: TCP should have stopped it at the socket buffers.");
        var line = await log.WaitForAsync("TcpStalledPeer", Echo.Bound);
        Assert.Contains("Plexus:Transports:Tcp:StalledPeerTimeout", line, StringComparison.Ordinal);
        Assert.True(started.Elapsed >= StalledPeerTimeout, $"The peer was closed after {started.Elapsed}, before the timeout.");
        Assert.True(worstGrowth < 64 * MiB, $"Live memory grew by {worstGrowth / MiB} MiB during the flood.");
        Assert.True(calls > 0);

        // Nothing of the closed connection stays: no session, nothing queued, the memory back.
        var giveUp = DateTime.UtcNow + Echo.Bound;
        while (server.SessionCount > 1 && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, server.SessionCount);
        Assert.True(server.QueuedControlBytes < Slack, $"{server.QueuedControlBytes} bytes of control frames are still counted after the peer went.");
        Assert.Equal(payload, Assert.Single(await Echo.CallAsync(healthy, server.Address, Echo.Request(echo, payload))));
        var left = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        Assert.True(left < 32 * MiB, $"{left / MiB} MiB of live memory stayed after the peer went.");
    }

    [Fact(Timeout = 60_000)]
    public async Task PeerThatReadsSlowly_IsNotClosed_WhileItKeepsReading()
    {
        // Progress is seen when a write to the socket completes, and the kernel wakes a blocked writer only once a good
        // part of its send buffer (grown up to 4 MiB here) has drained: at 4 MB/s that is well under a second.
        const long BytesPerSecond = 4_000_000;
        var log = new LogCapture();
        var options = TestOptions.Loopback();
        options.StalledPeerTimeout = TimeSpan.FromSeconds(4);
        options.MaxQueuedControlBytes = 16 * 1024;
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        // Many pings at once, then a steady read slower than the server answers: the server has to stop reading while
        // the peer catches up, again and again, for longer than the timeout in all, and must not take that for a
        // stalled peer. The peer's receive buffer is small, so the kernel cannot absorb the answers for it.
        using var socket = new Socket(server.BoundEndPoint!.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 64 * 1024 };
        await socket.ConnectAsync(server.BoundEndPoint!).WaitAsync(Echo.Bound);
        await socket.SendAsync(RawWire.Hello());
        const int Pings = 1_100_000;
        var ping = RawWire.SimpleFrame(FrameType.Ping, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
        var pings = new byte[ping.Length * Pings];
        for (var i = 0; i < Pings; i++)
        {
            ping.CopyTo(pings, i * ping.Length);
        }

        var sending = socket.SendAsync(pings);
        var buffer = new byte[64 * 1024];
        long received = 0;
        var paused = false;

        // A PONG is as long as its PING; the ACCEPT comes first.
        var expected = (long)pings.Length;
        var started = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        while (received < expected)
        {
            paused |= server.PausedSessionCount > 0;
            var n = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.True(n > 0, $"The server closed a peer that was reading, after {received} bytes.");
            received += n;
            var ahead = TimeSpan.FromSeconds((double)received / BytesPerSecond) - started.Elapsed;
            if (ahead > TimeSpan.Zero)
            {
                await Task.Delay(ahead, timeout.Token);
            }
        }

        await sending.WaitAsync(Echo.Bound);
        output.WriteLine($"Read {received} bytes in {started.Elapsed.TotalSeconds:F1} s.");
        Assert.True(paused, "The server never had to stop reading; the test did not exercise the bound.");
        Assert.True(started.Elapsed > options.StalledPeerTimeout, $"The peer read everything in {started.Elapsed}, within one timeout; the test did not exercise the deadline.");
        Assert.Equal(1, server.SessionCount);
        Assert.DoesNotContain(log.Lines, line => line.Contains("TcpStalledPeer", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task PeerAnnouncingAHugeWindow_NeverHasMoreQueuedThanThisSidesOwnWindow()
    {
        // Larger than the socket buffers can absorb (up to 4 MiB here), so most of it has to wait in the queue.
        var options = TestOptions.Loopback();
        var window = options.ConnectionWindowBytes;
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var endpoint = new EndpointAddress("tcp", "tests", "endless");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            while (true)
            {
                responses.GetSpan(16 * 1024)[..(16 * 1024)].Fill(7);
                responses.Advance(16 * 1024);
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
            }
        }));

        // A peer that grants 1 GiB per stream and on the connection, asks for 32 endless streams and reads nothing;
        // once the window is used up it grants 1 GiB more, for bytes it never received.
        using var socket = new Socket(server.BoundEndPoint!.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 16 * 1024 };
        await socket.ConnectAsync(server.BoundEndPoint!).WaitAsync(Echo.Bound);
        var greedy = RawWire.DefaultSettings() with { StreamWindowBytes = 1 << 30, ConnectionWindowBytes = 1 << 30 };
        var hello = new ArrayBufferWriter<byte>();
        Handshake.WriteSettings(hello, Wire.Hello, greedy);
        await socket.SendAsync(hello.WrittenMemory);
        var request = new OutgoingRequest(endpoint, instance, "greedy", new ReadOnlySequence<byte>(new byte[1]), new Dictionary<string, string>(), Deadline: null);
        for (uint id = 1; id <= 32; id++)
        {
            await socket.SendAsync(RawWire.RequestFrame(id, request));
        }

        long worst = 0;
        var started = Stopwatch.StartNew();
        while (server.QueuedDataBytes < window / 2 && started.Elapsed < Echo.Bound)
        {
            await Task.Delay(10);
        }

        await Task.Delay(200);
        await socket.SendAsync(RawWire.SimpleFrame(FrameType.Credit, 0, 0, 0, 0, 0, 0x40));
        started.Restart();
        while (started.Elapsed < TimeSpan.FromSeconds(2))
        {
            worst = Math.Max(worst, server.QueuedDataBytes);
            await Task.Delay(10);
        }

        output.WriteLine($"Worst queued DATA: {worst / 1024} KiB.");
        Assert.True(worst > window / 2, $"Only {worst} bytes of responses were queued; the test did not fill the window.");
        // The window, plus the one write (up to 1 MiB) handed to the socket that the peer may credit before the socket
        // takes it; and each queued frame counts 64 bytes beyond its body where credit counts 16 (about 48 KiB).
        var bound = window + (1024 * 1024) + (256 * 1024);
        Assert.True(worst <= bound, $"{worst} bytes of DATA were queued for a peer that reads nothing; the bound is {bound} (this side's window is {window}).");
    }

    private static bool IsAnyReaderPaused(TcpServer server) => server.PausedSessionCount > 0;
}
