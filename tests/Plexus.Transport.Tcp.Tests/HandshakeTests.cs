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
        await using var server = (TcpRequestServer)new TcpTransportFactory(options, TestCodecs.TwoPart(), log.Factory()).CreateServer();
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
    public async Task ClientOfAnotherVersion_GetsARejectNamingBothVersions_AndTheServerLogsIt()
    {
        var log = new LogCapture();
        await using var server = (TcpRequestServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var socket = await RawWire.ConnectAsync(server.BoundEndPoint!);
        await socket.SendAsync(RawWire.Hello(version: 2));
        var (reply, closed) = await RawWire.ReadUntilClosedAsync(socket, Echo.Bound);

        var message = RawWire.ParseHandshake(reply);
        Assert.True(closed);
        Assert.Equal(Wire.Reject, message.Kind);
        Assert.Equal(Wire.Version, message.Version);
        var (reason, text) = Handshake.ParseReject(message.Body);
        Assert.Equal(Wire.RejectVersion, reason);
        Assert.Contains("version 2", text, StringComparison.Ordinal);
        Assert.Contains("version 1", text, StringComparison.Ordinal);
        Assert.Contains("version 2", await log.WaitForAsync("TcpHandshakeRefused", Echo.Bound), StringComparison.Ordinal);
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
        Assert.Contains("version 1", error.Message, StringComparison.Ordinal);
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
        await using var server = (TcpRequestServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var socket = await RawWire.ConnectAsync(server.BoundEndPoint!);
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var (reply, closed) = await RawWire.ReadUntilClosedAsync(socket, Echo.Bound);

        Assert.True(closed);
        Assert.Empty(reply);
        Assert.Contains("not speaking the Plexus TCP protocol", await log.WaitForAsync("TcpHandshakeRefused", Echo.Bound), StringComparison.Ordinal);
    }

    private sealed class RenamedCodec(string name, IFrameCodec inner) : IFrameCodec
    {
        public string Name => name;

        public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame) => inner.TryRead(ref input, limits, out frame);

        public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output) => inner.Write(header, body, output);
    }
}
