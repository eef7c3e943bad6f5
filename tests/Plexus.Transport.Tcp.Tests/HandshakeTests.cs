using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>The handshake: timeouts, version and codec mismatches, strangers.</summary>
public sealed class HandshakeTests
{
    [Fact(Timeout = 60_000)]
    public async Task SilentConnector_IsDroppedAtTheHandshakeTimeout_AndLogged()
    {
        var log = new LogCapture();
        var options = TestOptions.Loopback();
        options.HandshakeTimeout = TimeSpan.FromMilliseconds(500);
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var silent = await RawWire.ConnectAsync(server.BoundEndPoint!);
        using var halfway = await RawWire.ConnectAsync(server.BoundEndPoint!);
        await halfway.SendAsync(RawWire.Hello().AsMemory(0, 10));
        var started = Stopwatch.StartNew();

        var (silentBytes, silentClosed) = await RawWire.ReadUntilClosedAsync(silent, TimeSpan.FromSeconds(10));
        var (_, halfwayClosed) = await RawWire.ReadUntilClosedAsync(halfway, TimeSpan.FromSeconds(10));

        Assert.True(silentClosed, "The server kept a connection that never said anything.");
        Assert.True(halfwayClosed, "The server kept a connection that sent only part of its hello.");
        Assert.Empty(silentBytes);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(300), $"Dropped after {started.Elapsed}, before the timeout.");
        Assert.Contains("HandshakeTimeout", await log.WaitForAsync("no complete handshake", Echo.Bound), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientOfALaterVersionOnly_GetsARejectNamingBothVersions_AndTheServerLogsIt()
    {
        var log = new LogCapture();
        await using var server = (TcpServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var socket = await RawWire.ConnectAsync(server.BoundEndPoint!);
        await socket.SendAsync(RawWire.Hello(version: Wire.Version + 1));
        var (reply, closed) = await RawWire.ReadUntilClosedAsync(socket, Echo.Bound);

        var message = RawWire.ParseHandshake(reply);
        Assert.True(closed);
        Assert.Equal(Wire.Reject, message.Kind);
        Assert.Equal(Wire.Version, message.Version);
        var (reason, text) = Handshake.ParseReject(message.Body);
        Assert.Equal(Wire.RejectVersion, reason);
        Assert.Contains($"version {Wire.Version + 1}", text, StringComparison.Ordinal);
        Assert.Contains($"versions 1 to {Wire.Version}", text, StringComparison.Ordinal);
        Assert.Contains($"version {Wire.Version + 1}", await log.WaitForAsync("TcpHandshakeRefused", Echo.Bound), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerOfAnotherVersion_GivesTheClientAClearProtocolError()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var fake = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            await RawWire.ReadUntilClosedAsync(peer, TimeSpan.FromMilliseconds(200));
            await peer.SendAsync(RawWire.Hello(version: 9, kind: Wire.Accept));
            await RawWire.ReadUntilClosedAsync(peer, Echo.Bound);
        });
        var address = new Uri($"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}");
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, address, Echo.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1])));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("version 9", error.Message, StringComparison.Ordinal);
        Assert.Contains($"versions 1 to {Wire.Version}", error.Message, StringComparison.Ordinal);
        await fake.WaitAsync(Echo.Bound);
    }

    [Fact(Timeout = 60_000)]
    public async Task CodecMismatch_GivesTheClientAClearError_AndTheServerLogsIt()
    {
        var log = new LogCapture();
        await using var server = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = Echo.Serve(server);
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), new TestCodecs(new RenamedCodec("fancy", TestCodecs.NewTwoPart()))).CreateClient();

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, [1])));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("'fancy'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'twopart'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:RequestPlane:Codec", error.Message, StringComparison.Ordinal);
        Assert.Contains("'fancy'", await log.WaitForAsync("TcpHandshakeRefused", Echo.Bound), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerAcceptsAnyCodecItHas_EvenIfItsDefaultDiffers()
    {
        var fancy = new RenamedCodec("fancy", TestCodecs.NewTwoPart());
        await using var server = new TcpTransportFactory(TestOptions.Loopback(), new TestCodecs(TestCodecs.NewTwoPart(), fancy)).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = Echo.Serve(server);
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), new TestCodecs(fancy)).CreateClient();

        Assert.Equal([7], Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, [7]))));
    }

    [Fact(Timeout = 60_000)]
    public async Task Stranger_IsClosedAtOnce_WithoutAReply()
    {
        var log = new LogCapture();
        await using var server = (TcpServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var socket = await RawWire.ConnectAsync(server.BoundEndPoint!);
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var (reply, closed) = await RawWire.ReadUntilClosedAsync(socket, Echo.Bound);

        Assert.True(closed);
        Assert.Empty(reply);
        Assert.Contains("not speaking the Plexus TCP protocol", await log.WaitForAsync("TcpHandshakeRefused", Echo.Bound), StringComparison.Ordinal);
    }

    [Fact]
    public void LimitsAnnouncedAsTheLargestU32_AreReadAsUnsigned_AndCappedAtWhatThisSideUses()
    {
        var message = RawWire.ParseHandshake(AllOnesSettings(Wire.Hello));

        var settings = Handshake.ParseSettings(message.Body);

        Assert.Equal(1024 * 1024, settings.MaxFrameHeaderBytes);
        Assert.Equal(16 * 1024 * 1024, settings.MaxFrameBodyBytes);
        Assert.Equal(1024 * 1024 * 1024, settings.StreamWindowBytes);
        Assert.Equal(1024 * 1024 * 1024, settings.ConnectionWindowBytes);
        Assert.Equal(int.MaxValue, settings.MaxConcurrentStreams);
        Assert.Equal(int.MaxValue, settings.KeepAliveMilliseconds);
    }

    [Fact]
    public void LimitsBelowTheMinimums_AreStillRefused_NamingThemUnsigned()
    {
        var hello = RawWire.Hello();
        var fieldsAt = Wire.HandshakePrefixLength + 1 + "twopart".Length;
        BitConverter.TryWriteBytes(hello.AsSpan(fieldsAt + 4), 512u); // frame body under 1024
        var message = RawWire.ParseHandshake(hello);

        var error = Assert.Throws<PlexusException>(() => Handshake.ParseSettings(message.Body));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("frame body 512", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerAccepts_AClientAnnouncing4GiBLimits()
    {
        await using var server = (TcpServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var socket = await RawWire.ConnectAsync(server.BoundEndPoint!);
        await socket.SendAsync(AllOnesSettings(Wire.Hello));
        var reply = new byte[1024];
        var received = 0;
        using var within = new CancellationTokenSource(Echo.Bound);
        while (received < Wire.HandshakePrefixLength)
        {
            var n = await socket.ReceiveAsync(reply.AsMemory(received), within.Token);
            Assert.True(n > 0, "The server closed the connection instead of accepting the handshake.");
            received += n;
        }

        Assert.Equal(Wire.Accept, RawWire.ParseHandshake(reply[..received]).Kind);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientAccepts_AServerAnnouncing4GiBLimits()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var fake = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            var hello = new byte[512];
            await peer.ReceiveAsync(hello);
            await peer.SendAsync(AllOnesSettings(Wire.Accept));
            await RawWire.ReadUntilClosedAsync(peer, Echo.Bound);
        });
        var address = new Uri($"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}");
        var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        try
        {
            // Before the handshake completes nothing is sent; a refused ACCEPT fails here with ProtocolError.
            var stream = await client.SendAsync(address, Echo.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1, 2, 3]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
            await stream.DisposeAsync();
        }
        finally
        {
            await client.DisposeAsync();
        }

        await fake.WaitAsync(Echo.Bound);
    }

    /// <summary>A HELLO or ACCEPT whose six limit fields are all 0xFFFFFFFF, the largest a u32 holds.</summary>
    private static byte[] AllOnesSettings(byte kind)
    {
        var bytes = RawWire.Hello(kind: kind);
        var fieldsAt = Wire.HandshakePrefixLength + 1 + "twopart".Length;
        bytes.AsSpan(fieldsAt, 24).Fill(0xFF);
        return bytes;
    }

    private sealed class RenamedCodec(string name, IFrameCodec inner) : IFrameCodec
    {
        public string Name => name;

        public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame) => inner.TryRead(ref input, limits, out frame);

        public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output) => inner.Write(header, body, output);
    }
}
