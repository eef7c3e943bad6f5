using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// MESSAGES frames (version 2): their encoding, what the server packs and what it leaves to DATA frames, the credit they
/// cost, and what a client does with a malformed one: that stream fails, nothing else is lost.
/// </summary>
public sealed class PackedMessagesTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WellFormedBodies_AreAccepted_InOneSegmentOrMany(bool segmented)
    {
        byte[][] messages = [[], [1], new byte[16], new byte[4092], [7, 7, 7]];
        var frame = RawWire.MessagesFrame(1, messages);
        var body = frame.AsSpan(16 + Wire.MessagesHeaderLength).ToArray();
        var sequence = segmented ? Segmented(body) : new ReadOnlySequence<byte>(body);

        Assert.Null(PackedMessages.Check(sequence, messages.Length, out var largest));
        Assert.Equal(4092, largest);
        Assert.Equal(messages, RawWire.Unpack(body, (ulong)messages.Length));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BadLengths_AreRefused_NamingTheMessageAndTheBytes(bool segmented)
    {
        // Second message declares 100 bytes where 3 follow.
        var overrun = Body([1, 2], 100u, [9, 9, 9]);
        // The body ends inside the second length.
        var truncated = Body([1, 2], null, [0, 0]);
        // Bytes left after the declared messages.
        var trailing = Body([1, 2], null, [5]);

        Assert.Contains("message 2 of the 2", Check(overrun, 2), StringComparison.Ordinal);
        Assert.Contains("declares 100 bytes, but only 3", Check(overrun, 2), StringComparison.Ordinal);
        Assert.Contains("has no room for its length", Check(truncated, 2), StringComparison.Ordinal);
        Assert.Contains("1 bytes follow the 1 messages", Check(trailing, 1), StringComparison.Ordinal);
        Assert.Contains("has no room for its length", Check(Body([1, 2], null, []), 3), StringComparison.Ordinal);

        string Check(byte[] body, long count) =>
            PackedMessages.Check(segmented ? Segmented(body) : new ReadOnlySequence<byte>(body), count, out _) ?? "(well formed)";
    }

    [Fact(Timeout = 60_000)]
    public async Task Server_PacksSmallMessagesFlushedTogether_AndSendsLargeOnesAsDataFrames_InOrder()
    {
        await using var server = (TcpServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        const int Count = 60;
        var target = MixedMessages.Serve(server, Count, flushEach: false);
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, RawWire.Hello(highestVersion: Wire.Version));
        Assert.Equal(Wire.Version, peer.Version);

        await peer.SendAsync(RawWire.RequestFrame(1, Echo.Request(target, [0])));
        var received = new List<byte[]>();
        var packed = 0;
        var assembling = new List<byte>();
        while (true)
        {
            var (header, body) = await peer.ReadAsync();
            if (header.Type == FrameType.End)
            {
                break;
            }

            if (header.Type == FrameType.Messages)
            {
                Assert.Empty(assembling);
                var messages = RawWire.Unpack(body, header.Value);
                Assert.Equal((int)header.Value, messages.Count);
                Assert.All(messages, message => Assert.True(message.Length <= Wire.MinimumChunk - Wire.MessagePrefixBytes, $"A {message.Length}-byte message was packed."));
                packed += messages.Count;
                received.AddRange(messages);
            }
            else
            {
                Assert.Equal(FrameType.Data, header.Type);
                Assert.True(body.Length <= new TcpTransportOptions().MaxFrameBodyBytes);
                assembling.AddRange(body);
                if ((header.Flags & Wire.EndMessage) != 0)
                {
                    received.Add([.. assembling]);
                    assembling.Clear();
                }
            }

            if ((header.Flags & Wire.EndStream) != 0)
            {
                // Version 3: the end in the last frame.
                break;
            }
        }

        Assert.Equal(Count, received.Count);
        for (var i = 0; i < Count; i++)
        {
            MixedMessages.AssertMessage(i, new ReadOnlySequence<byte>(received[i]));
        }

        // Flushed every 37 messages: far fewer frames than messages.
        Assert.True(packed > Count / 2, $"Only {packed} of {Count} messages were packed.");
    }

    [Fact(Timeout = 60_000)]
    public async Task PackedMessages_CostTheirLengthPlus16Credit_EachAsInADataFrame()
    {
        // A client that grants a 64 KiB stream window and returns nothing: 32-byte charges fill it after 2,048 messages.
        // No keep-alive during the test, so that any frame that arrives is a response.
        var options = TestOptions.Loopback();
        options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        options.KeepAliveTimeout = TimeSpan.FromSeconds(60);
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var endpoint = new EndpointAddress("tcp", "tests", "endless-small");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            for (var i = 0; ; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(responses.GetSpan(16), i);
                responses.Advance(16);
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
            }
        }));
        var settings = RawWire.DefaultSettings() with { StreamWindowBytes = 64 * 1024 };
        var hello = new ArrayBufferWriter<byte>();
        Handshake.WriteHello(hello, settings, Wire.Version);
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, hello.WrittenSpan.ToArray());
        await peer.SendAsync(RawWire.RequestFrame(1, Echo.Request((endpoint, instance), [0])));

        var count = await ReadMessagesAsync(peer, 64 * 1024 / 32);
        Assert.False(await peer.HasFrameWithinAsync(TimeSpan.FromMilliseconds(300)), "The server sent past the stream window.");

        // 100 messages' worth of credit lets exactly 100 more through.
        await peer.SendAsync(RawWire.SimpleFrame(FrameType.Credit, 0, 1, BitConverter.GetBytes(100u * 32)));
        count += await ReadMessagesAsync(peer, 100, first: count);
        Assert.False(await peer.HasFrameWithinAsync(TimeSpan.FromMilliseconds(300)), "The server sent past the credit returned.");
        Assert.Equal((64 * 1024 / 32) + 100, count);
    }

    [Fact(Timeout = 60_000)]
    public async Task Client_ReadsPackedFrames_OneMessageAtATime_InOrder()
    {
        await using var fake = new FakeServer();
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        var call = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1])));
        await fake.AcceptAsync(_ => FakeServer.Accept(Wire.Version));
        await fake.ReadUntilAsync(FrameType.Request);

        // A frame split across writes, one of a single message, an empty message, then a DATA message between packed ones.
        var frame = RawWire.MessagesFrame(1, [1], [], [2, 2], new byte[1000]);
        await fake.SendAsync(frame[..7]);
        await Task.Delay(20);
        await fake.SendAsync(frame[7..]);
        await fake.SendAsync(RawWire.MessagesFrame(1, [3]));
        await fake.SendAsync(RawWire.DataFrame(1, Wire.EndMessage, [4, 4, 4, 4]));
        await fake.SendAsync(RawWire.MessagesFrame(1, [5], [6]));
        await fake.SendAsync(RawWire.SimpleFrame(FrameType.End, 0, 1));

        byte[][] expected = [[1], [], [2, 2], new byte[1000], [3], [4, 4, 4, 4], [5], [6]];
        Assert.Equal(expected, await call.WaitAsync(Echo.Bound));
    }

    [Fact(Timeout = 60_000)]
    public async Task MalformedPackedFrame_FailsThatStreamWithProtocolError_AfterItsGoodMessages_AndTheConnectionCarriesOn()
    {
        var log = new LogCapture();
        await using var fake = new FakeServer();
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), log.Factory()).CreateClient();
        var target = (new EndpointAddress("a", "b", "c"), InstanceId.NewId());
        var first = Task.Run(() => client.SendAsync(fake.Address, Echo.Request(target, [1]), CancellationToken.None).AsTask());
        await fake.AcceptAsync(_ => FakeServer.Accept(Wire.Version));
        await fake.ReadUntilAsync(FrameType.Request);
        await using var broken = await first.WaitAsync(Echo.Bound);
        var second = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request(target, [2])));
        var (request, _) = await fake.ReadUntilAsync(FrameType.Request);
        Assert.Equal(2u, request.StreamId);

        // Stream 1: two good messages, then a frame whose second message claims more bytes than the frame has.
        await fake.SendAsync(RawWire.MessagesFrame(1, [10], [11]));
        await fake.SendAsync(RawWire.MessagesFrame(1, 2, Body([12], 50u, [13, 13])));
        var (cancel, _) = await fake.ReadUntilAsync(FrameType.Cancel);
        Assert.Equal(1u, cancel.StreamId);
        await fake.SendAsync(RawWire.MessagesFrame(2, [20], [21]));
        await fake.SendAsync(RawWire.SimpleFrame(FrameType.End, 0, 2));

        Assert.True(await broken.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        Assert.Equal([10], broken.Current.ToArray());
        Assert.True(await broken.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        Assert.Equal([11], broken.Current.ToArray());
        var error = await Assert.ThrowsAsync<PlexusException>(() => broken.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("message 2 of the 2 in a MESSAGES frame declares 50 bytes, but only 2", error.Message, StringComparison.Ordinal);
        byte[][] others = [[20], [21]];
        Assert.Equal(others, await second.WaitAsync(Echo.Bound));
        Assert.Contains("stream 1", await log.WaitForAsync("TcpStreamViolation", Echo.Bound), StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(Wire.Version, 100u, 8)]
    [InlineData(Wire.Version, 0u, 0)]
    [InlineData(Wire.MinVersion, 1u, 5)]
    public async Task PackedFrameTheConnectionCannotAccountFor_ClosesTheConnection(byte version, uint count, int bodyLength)
    {
        // A count the body cannot hold (or none) decides credit wrongly; on a version-1 connection the frame does not exist.
        await using var fake = new FakeServer();
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        var call = Task.Run(() => Echo.CallAsync(client, fake.Address, Echo.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1])));
        await fake.AcceptAsync(_ => FakeServer.Accept(version));
        await fake.ReadUntilAsync(FrameType.Request);
        var body = new byte[bodyLength];
        if (bodyLength >= 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)bodyLength - 4);
        }

        await fake.SendAsync(RawWire.MessagesFrame(1, count, body));

        var error = await Assert.ThrowsAsync<PlexusException>(() => call.WaitAsync(Echo.Bound));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("protocol error", error.Message, StringComparison.Ordinal);
        Assert.True(await fake.WaitForCloseAsync(Echo.Bound));
    }

    private static async Task<int> ReadMessagesAsync(RawPeer peer, int expected, int first = 0)
    {
        var count = 0;
        while (count < expected)
        {
            // The response's first message goes alone, as a DATA frame; the rest are packed.
            var (header, body) = await peer.ReadAsync();
            var messages = header.Type == FrameType.Data && header.Flags == Wire.EndMessage ? [body] : RawWire.Unpack(body, header.Value);
            Assert.True(header.Type == FrameType.Messages || first + count == 0, $"Message {first + count} came in a {header.Type} frame.");
            foreach (var message in messages)
            {
                Assert.Equal(first + count, BinaryPrimitives.ReadInt32LittleEndian(message));
                count++;
            }
        }

        Assert.Equal(expected, count);
        return count;
    }

    // Whole messages, then a length prefix (or none) and the bytes that follow it.
    private static byte[] Body(byte[] whole, uint? length, byte[] rest)
    {
        var body = new List<byte>(BitConverter.GetBytes((uint)whole.Length));
        body.AddRange(whole);
        if (length is { } declared)
        {
            body.AddRange(BitConverter.GetBytes(declared));
        }

        body.AddRange(rest);
        return [.. body];
    }

    // One segment per byte: every read crosses a segment boundary.
    private static ReadOnlySequence<byte> Segmented(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
