namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// Version 3 on the client, against a raw server: END_STREAM on a DATA or MESSAGES frame delivers the frame's messages
/// and then ends the stream as END would; a flag the connection's version does not define there is a connection error.
/// </summary>
public sealed class EndInFrameClientTests
{
    private static readonly (EndpointAddress Endpoint, InstanceId Instance) Target = (new EndpointAddress("a", "b", "c"), InstanceId.NewId());

    [Fact(Timeout = 60_000)]
    public async Task Client_OnVersion3_EndsTheStreamAtTheFlaggedFrame_AfterItsMessages()
    {
        await using var fake = new FakeServer();
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        var first = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request(Target, [1])));
        var hello = await fake.AcceptAsync(_ => FakeServer.Accept(Wire.EndInFrameVersion));
        Assert.Equal(Wire.EndInFrameVersion, Handshake.OfferedVersion(hello));
        await fake.ReadUntilAsync(FrameType.Request);

        // A packed run, then the last message in a DATA frame that ends the stream.
        await fake.SendAsync(RawWire.MessagesFrame(1, [1], [2]));
        await fake.SendAsync(RawWire.DataFrame(1, Wire.EndMessage | Wire.EndStream, [3]));
        byte[][] expected = [[1], [2], [3]];
        Assert.Equal(expected, await first.WaitAsync(Echo.Bound));

        // The same connection carries on: a message in pieces, then a MESSAGES frame that ends the stream.
        var second = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request(Target, [2])));
        var (request, _) = await fake.ReadUntilAsync(FrameType.Request);
        Assert.Equal(2u, request.StreamId);
        await fake.SendAsync(RawWire.DataFrame(2, 0, [4]));
        await fake.SendAsync(RawWire.DataFrame(2, Wire.EndMessage, [4]));
        await fake.SendAsync(RawWire.FlaggedMessagesFrame(2, Wire.EndStream, [5], []));
        expected = [[4, 4], [5], []];
        Assert.Equal(expected, await second.WaitAsync(Echo.Bound));

        // An END that a peer might still send after such a frame names a stream that has ended: it is ignored.
        await fake.SendAsync(RawWire.SimpleFrame(FrameType.End, 0, 2));
        var third = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request(Target, [3])));
        await fake.ReadUntilAsync(FrameType.Request);
        await fake.SendAsync(RawWire.DataFrame(3, Wire.EndMessage | Wire.EndStream, []));
        Assert.Empty(Assert.Single(await third.WaitAsync(Echo.Bound)));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(2, false, Wire.EndMessage | Wire.EndStream)]
    [InlineData(2, true, Wire.EndStream)]
    [InlineData(1, false, Wire.EndMessage | Wire.EndStream)]
    [InlineData(3, false, Wire.EndStream)]
    [InlineData(3, false, Wire.EndMessage | 0x04)]
    [InlineData(3, true, Wire.EndMessage)]
    [InlineData(2, false, Wire.EndMessage | 0x80)]
    public async Task FlagTheConnectionsVersionDoesNotDefine_ClosesTheConnection(int version, bool packed, int flags)
    {
        // END_STREAM on a response frame before version 3; END_STREAM in the middle of a message; any unknown bit.
        var log = new LogCapture();
        await using var fake = new FakeServer();
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), log.Factory()).CreateClient();
        var call = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request(Target, [1])));
        await fake.AcceptAsync(_ => FakeServer.Accept((byte)version));
        await fake.ReadUntilAsync(FrameType.Request);

        await fake.SendAsync(packed ? RawWire.FlaggedMessagesFrame(1, (byte)flags, [9]) : RawWire.DataFrame(1, (byte)flags, [9]));

        var error = await Assert.ThrowsAsync<PlexusException>(() => call.WaitAsync(Echo.Bound));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("protocol error", error.Message, StringComparison.Ordinal);
        Assert.True(await fake.WaitForCloseAsync(Echo.Bound));
        Assert.Contains($"flags 0x{flags:X2}", await log.WaitForAsync("TcpProtocolViolation", Echo.Bound), StringComparison.Ordinal);
    }
}
