using System.Buffers;
using System.Buffers.Binary;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// Versions 1 and 2 (ALPN <c>plexus/1</c> and <c>plexus/2</c>): which one a connection speaks, MESSAGES frames on
/// version 2 only, peers of the first version served as before, and a malformed MESSAGES frame failing only its stream.
/// </summary>
public sealed partial class QuicProtocolTests
{
    // Five small messages, one too large to pack, three small, one flush: on version 2 that is MESSAGES, DATA, MESSAGES.
    private static readonly int[] FlushedTogether = [16, 0, 16, 3000, 16, 5000, 16, 1, 16];

    [Fact(Timeout = 60_000)]
    public async Task ClientOfTheFirstVersion_IsServedWithDataFramesOnly()
    {
        await using var server = await StartServerAsync();
        var target = ServeFlushedTogether(server);
        await using var peer = await RawPeer.ConnectAsync(server, certificates, QuicWire.MinVersion);
        await peer.ExchangeSettingsAsync();

        var frames = await peer.CallAsync(QuicEcho.Request(target, [0]), declaredLength: null);

        Assert.Equal("plexus/1", peer.Connection.Alpn);
        Assert.Equal(FlushedTogether.Length, frames.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.Equal([QuicWire.Data, QuicWire.EndMessage], frames[i].Header);
            Assert.Equal(Message(i), frames[i].Body);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientOfVersion2_GetsSmallMessagesFlushedTogetherInMessagesFrames()
    {
        await using var server = await StartServerAsync();
        var target = ServeFlushedTogether(server);
        await using var peer = await RawPeer.ConnectAsync(server, certificates, QuicWire.Version);
        await peer.ExchangeSettingsAsync();

        var frames = await peer.CallAsync(QuicEcho.Request(target, [0]), declaredLength: null);

        Assert.Equal("plexus/2", peer.Connection.Alpn);
        Assert.Equal([QuicWire.Messages, QuicWire.Data, QuicWire.Messages], frames.Select(frame => frame.Header[0]));
        Assert.Equal(QuicWire.MessagesHeaderLength, frames[0].Header.Length);
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(frames[0].Header.AsSpan(QuicWire.CommonHeaderLength)));
        var messages = Unpack(frames[0].Body, 5);
        messages.Add(frames[1].Body);
        messages.AddRange(Unpack(frames[2].Body, 3));
        for (var i = 0; i < FlushedTogether.Length; i++)
        {
            Assert.Equal(Message(i), messages[i]);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(1, 2, 1)]
    [InlineData(2, 1, 1)]
    [InlineData(2, 2, 2)]
    public async Task ClientAndServer_OfEitherVersion_ExchangeEveryMessage(int clientMax, int serverMax, int expected)
    {
        var serverOptions = QuicTestOptions.Loopback(certificates);
        serverOptions.MaxProtocolVersion = (byte)serverMax;
        await using var server = (QuicServer)QuicTestOptions.Factory(serverOptions).CreateServer();
        await server.StartAsync(CancellationToken.None);
        int[] sizes = [16, 0, 4092, 4093, 70_000, 1, 16, 900];
        const int Count = 400;
        var target = QuicEcho.Serve(server, "mixed", async (request, responses) =>
        {
            for (var i = 0; i < Count; i++)
            {
                var message = Pattern(i, sizes[i % sizes.Length]);
                responses.Write(message);
                responses.EndMessage();
                if (i % 5 == 0)
                {
                    await responses.FlushAsync(request.RequestAborted);
                }
            }
        });
        var clientOptions = QuicTestOptions.Loopback(certificates);
        clientOptions.MaxProtocolVersion = (byte)clientMax;
        await using var client = QuicTestOptions.Factory(clientOptions).CreateClient();

        var messages = await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(target, [0]));

        Assert.Equal((byte)expected, Assert.Single(server.SessionVersions));
        Assert.Equal(Count, messages.Count);
        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(Pattern(i, sizes[i % sizes.Length]), messages[i]);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task EachFlushedMessage_ArrivesWithoutWaitingForTheNextFlush()
    {
        // A token-streaming handler: it writes the next message only once the client has read the one before. A message
        // held back while the stream was busy must still leave once it is not.
        await using var server = await StartServerAsync();
        const int Count = 200;
        var read = new SemaphoreSlim(0);
        var target = QuicEcho.Serve(server, "paced", async (request, responses) =>
        {
            for (var i = 0; i < Count; i++)
            {
                responses.Write(Pattern(i, 16));
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
                if (i % 2 == 1)
                {
                    // Two flushes back to back, the second while the first may still wait for QUIC, then a pause.
                    await read.WaitAsync(request.RequestAborted);
                }
            }
        });
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();

        await using var stream = await client.SendAsync(server.Address, QuicEcho.Request(target, [0]), CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        for (var i = 0; i < Count; i++)
        {
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound), $"The stream ended after {i} messages.");
            Assert.Equal(Pattern(i, 16), stream.Current.ToArray());
            if (i % 2 == 1)
            {
                read.Release();
            }
        }

        Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
    }

    [Fact(Timeout = 60_000)]
    public async Task MessagesFlushedOneByOne_ThenAHandlerError_AllArriveBeforeTheError()
    {
        // Flushed while the stream is busy, most of them wait to be framed together: the error must not overtake them.
        await using var server = await StartServerAsync();
        const int Count = 2_000;
        var target = QuicEcho.Serve(server, "then-fails", async (request, responses) =>
        {
            for (var i = 0; i < Count; i++)
            {
                responses.Write(Pattern(i, 16));
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
            }

            throw new InvalidOperationException("failed after the messages");
        });
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();

        await using var stream = await client.SendAsync(server.Address, QuicEcho.Request(target, [0]), CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        for (var i = 0; i < Count; i++)
        {
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound), $"The stream ended after {i} messages.");
            Assert.Equal(Pattern(i, 16), stream.Current.ToArray());
        }

        var error = await Assert.ThrowsAsync<PlexusException>(() => stream.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task MalformedMessagesFrame_FailsThatStreamWithProtocolError_AfterItsGoodMessages_AndTheConnectionCarriesOn()
    {
        await using var server = await RawQuicServer.StartAsync(certificates, QuicWire.Version);
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();
        var target = (new EndpointAddress("a", "b", "c"), InstanceId.NewId());
        var first = Task.Run(() => client.SendAsync(server.Address, QuicEcho.Request(target, [1]), CancellationToken.None).AsTask());
        await server.AcceptAsync();
        Assert.Equal(QuicWire.Version, server.Version);
        var broken = await server.AcceptRequestAsync();
        await using var responses = await first.WaitAsync(QuicEcho.Bound);

        // Two good messages, then a frame whose second message claims more bytes than the frame has.
        await server.WriteAsync(broken, RawQuicServer.MessagesHeader(2), RawQuicServer.MessagesBody([10], [11]));
        var bad = RawQuicServer.MessagesBody([12]).Concat(BitConverter.GetBytes(50u)).Concat(new byte[] { 13, 13 }).ToArray();
        await server.WriteAsync(broken, RawQuicServer.MessagesHeader(2), bad);

        Assert.True(await responses.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.Equal([10], responses.Current.ToArray());
        Assert.True(await responses.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.Equal([11], responses.Current.ToArray());
        var error = await Assert.ThrowsAsync<PlexusException>(() => responses.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("message 2 of the 2 in a MESSAGES frame declares 50 bytes, but only 2", error.Message, StringComparison.Ordinal);

        // The client told the server to stop (STOP_SENDING with PROTOCOL): the stream's later writes fail. When the
        // stream has fully closed before the raw server's next write, the write only learns that it ended.
        var stopped = await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                await server.WriteAsync(broken, [QuicWire.Data, QuicWire.EndMessage], [0]);
                await Task.Delay(10);
            }
        });
        if (stopped is QuicStreamAbortedException aborted)
        {
            Assert.Equal(QuicErrorCodes.Protocol, aborted.ErrorCode);
        }
        else
        {
            Assert.Equal("the stream has ended", stopped.Message);
        }

        // The same connection carries the next request.
        var second = Task.Run(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(target, [2])));
        var next = await server.AcceptRequestAsync();
        await server.WriteAsync(next, RawQuicServer.MessagesHeader(2), RawQuicServer.MessagesBody([20], [21]));
        await next.Output.CompleteAsync();
        byte[][] expected = [[20], [21]];
        Assert.Equal(expected, await second.WaitAsync(QuicEcho.Bound));
    }

    [Fact(Timeout = 60_000)]
    public async Task MessagesFrameOnAVersion1Connection_FailsThatStream()
    {
        await using var server = await RawQuicServer.StartAsync(certificates, QuicWire.MinVersion);
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();
        var call = Task.Run(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1])));
        await server.AcceptAsync();
        Assert.Equal(QuicWire.MinVersion, server.Version);
        var stream = await server.AcceptRequestAsync();

        await server.WriteAsync(stream, RawQuicServer.MessagesHeader(2), RawQuicServer.MessagesBody([1], [2]));

        var error = await Assert.ThrowsAsync<PlexusException>(() => call.WaitAsync(QuicEcho.Bound));
        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("protocol version 1", error.Message, StringComparison.Ordinal);
    }

    private static (EndpointAddress Endpoint, InstanceId Instance) ServeFlushedTogether(IRequestPlaneServer server) =>
        QuicEcho.Serve(server, "together", async (request, responses) =>
        {
            for (var i = 0; i < FlushedTogether.Length; i++)
            {
                responses.Write(Message(i));
                responses.EndMessage();
            }

            await responses.FlushAsync(request.RequestAborted);
        });

    private static byte[] Message(int index) => Pattern(index, FlushedTogether[index]);

    private static byte[] Pattern(int index, int length)
    {
        var message = new byte[length];
        for (var i = 0; i < length; i++)
        {
            message[i] = (byte)(index + (i * 7));
        }

        return message;
    }

    private static List<byte[]> Unpack(byte[] body, uint count)
    {
        Assert.Null(Plexus.Transport.Tcp.PackedMessages.Check(new ReadOnlySequence<byte>(body), count, out _));
        var messages = new List<byte[]>();
        for (var offset = 0; offset < body.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(offset));
            messages.Add(body.AsSpan(offset + QuicWire.MessagePrefixBytes, length).ToArray());
            offset += QuicWire.MessagePrefixBytes + length;
        }

        return messages;
    }
}
