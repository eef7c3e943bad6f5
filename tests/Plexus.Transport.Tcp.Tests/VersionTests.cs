using System.Buffers;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// Versions 1 to 3 side by side: the HELLO a version-1 server can still read, the version the server chooses, and
/// peers of older versions (a raw version-1 client, a raw server that knows only version 1, and either side pinned
/// to an older version) exchanging every message intact.
/// </summary>
public sealed class VersionTests
{
    private const int Count = 300;

    [Fact]
    public void HelloOfThisVersion_IsAVersion1HelloWithTheHighestVersionAfterItsSettings()
    {
        var output = new ArrayBufferWriter<byte>();
        Handshake.WriteHello(output, RawWire.DefaultSettings(), Wire.Version);
        var hello = RawWire.ParseHandshake(output.WrittenSpan.ToArray());

        // What a version-1 server checks: the magic, version byte 1, a HELLO, settings at the same offsets.
        Assert.Equal(Wire.MinVersion, hello.Version);
        Assert.Equal(Wire.Hello, hello.Kind);
        Assert.Equal(RawWire.DefaultSettings(), Handshake.ParseSettings(hello.Body));
        Assert.Equal(Wire.Version, hello.Body[^1]);
        Assert.Equal(Wire.Version, Handshake.OfferedVersion(hello));

        // A client pinned to version 1 sends exactly the first version's HELLO.
        var pinned = new ArrayBufferWriter<byte>();
        Handshake.WriteHello(pinned, RawWire.DefaultSettings(), Wire.MinVersion);
        Assert.Equal(RawWire.Hello(), pinned.WrittenSpan.ToArray());
        Assert.Equal(Wire.MinVersion, Handshake.OfferedVersion(RawWire.ParseHandshake(pinned.WrittenSpan.ToArray())));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(1, null, 2, 1)]
    [InlineData(1, 2, 2, 2)]
    [InlineData(1, 9, 2, 2)]
    [InlineData(2, null, 2, 2)]
    [InlineData(1, 2, 1, 1)]
    [InlineData(1, 3, 3, 3)]
    [InlineData(1, 3, 2, 2)]
    [InlineData(1, 2, 3, 2)]
    [InlineData(2, 3, 3, 3)]
    [InlineData(3, null, 3, 3)]
    [InlineData(1, 9, 3, 3)]
    public async Task Server_AcceptsWithTheHighestVersionBothSidesSpeak(int lowest, int? highest, int serverMax, int expected)
    {
        var options = TestOptions.Loopback();
        options.MaxProtocolVersion = (byte)serverMax;
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, RawWire.Hello((byte)lowest, highestVersion: (byte?)highest));

        Assert.Equal(expected, peer.Version);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(3, 4)]
    public async Task Server_RefusesAClientWhoseLowestVersionIsAboveItsOwn(int serverMax, int lowest)
    {
        var options = TestOptions.Loopback();
        options.MaxProtocolVersion = (byte)serverMax;
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);

        using var socket = await RawWire.ConnectAsync(server.BoundEndPoint!);
        await socket.SendAsync(RawWire.Hello((byte)lowest));
        var (reply, closed) = await RawWire.ReadUntilClosedAsync(socket, Echo.Bound);

        var message = RawWire.ParseHandshake(reply);
        Assert.True(closed);
        Assert.Equal(Wire.Reject, message.Kind);
        Assert.Equal(serverMax, message.Version);
        var (reason, text) = Handshake.ParseReject(message.Body);
        Assert.Equal(Wire.RejectVersion, reason);
        Assert.Contains($"versions 1 to {serverMax}", text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Version1Client_IsServedAsBefore_WithDataFramesOnly()
    {
        await using var server = (TcpServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        // Few enough that the responses fit the stream window: the raw client returns no credit.
        const int Few = 60;
        var target = MixedMessages.Serve(server, Few, flushEach: false);
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, RawWire.Hello());
        Assert.Equal(Wire.MinVersion, peer.Version);

        await peer.SendAsync(RawWire.RequestFrame(1, Echo.Request(target, [0])));
        var received = new List<byte[]>();
        var assembling = new List<byte>();
        while (true)
        {
            var (header, body) = await peer.ReadAsync();
            if (header.Type == FrameType.End)
            {
                break;
            }

            Assert.Equal(FrameType.Data, header.Type);
            assembling.AddRange(body);
            if ((header.Flags & Wire.EndMessage) != 0)
            {
                received.Add([.. assembling]);
                assembling.Clear();
            }
        }

        Assert.Equal(Few, received.Count);
        for (var i = 0; i < Few; i++)
        {
            MixedMessages.AssertMessage(i, new ReadOnlySequence<byte>(received[i]));
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(1, 2, 1)]
    [InlineData(2, 1, 1)]
    [InlineData(2, 2, 2)]
    [InlineData(1, 3, 1)]
    [InlineData(3, 1, 1)]
    [InlineData(2, 3, 2)]
    [InlineData(3, 2, 2)]
    [InlineData(3, 3, 3)]
    public async Task ClientAndServer_OfEitherVersion_ExchangeEveryMessage_PackedFromVersion2_EndInFrameFromVersion3(int clientMax, int serverMax, int expected)
    {
        var serverOptions = TestOptions.Loopback();
        serverOptions.MaxProtocolVersion = (byte)serverMax;
        await using var server = (TcpServer)new TcpTransportFactory(serverOptions, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var target = MixedMessages.Serve(server, Count, flushEach: false);
        var clientOptions = TestOptions.Loopback();
        clientOptions.MaxProtocolVersion = (byte)clientMax;
        await using var client = new TcpTransportFactory(clientOptions, TestCodecs.TwoPart()).CreateClient();
        await using var relay = new RecordingRelay(server.BoundEndPoint!);

        await MixedMessages.AssertAllAsync(client, relay.Address, target, Count);

        var (version, headers) = relay.RecordedHeaders();
        var frames = headers.ConvertAll(header => header.Type);
        Assert.Equal(expected, version);
        Assert.Equal(expected >= Wire.PackedVersion, frames.Contains(FrameType.Messages));
        Assert.Contains(FrameType.Data, frames);

        // The stream ends once: with END, or (version 3 only) with END_STREAM on its last DATA or MESSAGES frame.
        var endsInFrame = headers.FindAll(header => header.Type is FrameType.Data or FrameType.Messages && (header.Flags & Wire.EndStream) != 0);
        Assert.Equal(1, endsInFrame.Count + frames.FindAll(type => type == FrameType.End).Count);
        if (expected < Wire.EndInFrameVersion)
        {
            Assert.Empty(endsInFrame);
        }
        else if (endsInFrame.Count == 1)
        {
            Assert.Equal(headers.FindLast(header => header.Type is FrameType.Data or FrameType.Messages), endsInFrame[0]);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Client_AgainstAServerOfTheFirstVersion_SpeaksVersion1()
    {
        // The first release's rules: a HELLO whose version byte is not 1 is refused; bytes after the settings are ignored.
        await using var fake = new FakeServer();
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        var call = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1])));
        var hello = await fake.AcceptAsync(hello =>
        {
            Handshake.ParseSettings(hello.Body);
            return hello.Version == 1 ? FakeServer.Accept(1) : Reject();
        });
        Assert.Equal(1, hello.Version);
        await fake.ReadUntilAsync(FrameType.Request);

        await fake.SendAsync(RawWire.DataFrame(1, Wire.EndMessage, [1, 2, 3]));
        await fake.SendAsync(RawWire.DataFrame(1, 0, new byte[60_000]));
        await fake.SendAsync(RawWire.DataFrame(1, Wire.EndMessage, [9]));
        await fake.SendAsync(RawWire.DataFrame(1, Wire.EndMessage, []));
        await fake.SendAsync(RawWire.SimpleFrame(FrameType.End, 0, 1));

        var messages = await call.WaitAsync(Echo.Bound);
        Assert.Equal(3, messages.Count);
        Assert.Equal([1, 2, 3], messages[0]);
        Assert.Equal(60_001, messages[1].Length);
        Assert.Empty(messages[2]);

        static byte[] Reject()
        {
            var output = new ArrayBufferWriter<byte>();
            Handshake.WriteReject(output, Wire.RejectVersion, "version 1 only", 1);
            return output.WrittenSpan.ToArray();
        }
    }
}
