using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// Response streams that mix small messages (packed together on the client) with large ones (one buffer each), read
/// at different speeds, and given up half way: order, content and returned credit must hold in every case.
/// </summary>
public sealed class StreamingTests
{
    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MixedSmallAndLargeMessages_ArriveIntactAndInOrder(bool flushEach)
    {
        var factory = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart());
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var target = MixedMessages.Serve(server, count: 6000, flushEach);

        await using var stream = await client.SendAsync(server.Address, Echo.Request(target, [0]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        var index = 0;
        while (await stream.MoveNextAsync().AsTask().WaitAsync(Echo.Bound))
        {
            MixedMessages.AssertMessage(index, stream.Current);
            index++;
            if (index % 1500 == 0)
            {
                // Fall behind now and then, so that messages pile up across several blocks and runs.
                await Task.Delay(50);
            }
        }

        Assert.Equal(6000, index);
    }

    [Fact(Timeout = 60_000)]
    public async Task StreamsGivenUpHalfWay_ReturnTheirCredit_AndTheConnectionKeepsFlowing()
    {
        // The smallest windows: credit leaked by a few abandoned streams would stall every later one.
        var options = TestOptions.Loopback();
        options.StreamWindowBytes = 64 * 1024;
        options.ConnectionWindowBytes = 64 * 1024;
        var factory = new TcpTransportFactory(options, TestCodecs.TwoPart());
        await using var server = (TcpServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var target = MixedMessages.Serve(server, count: 3000, flushEach: true);

        for (var round = 0; round < 40; round++)
        {
            await using var stream = await client.SendAsync(server.Address, Echo.Request(target, [0]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
            for (var i = 0; i < round % 7; i++)
            {
                Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
                MixedMessages.AssertMessage(i, stream.Current);
            }

            // Let the server fill the window before giving up, so that queued messages are thrown away with their credit.
            await Task.Delay(round % 3 == 0 ? 20 : 0);
        }

        var messages = await Echo.CallAsync(client, server.Address, Echo.Request(target, [0]));
        Assert.Equal(3000, messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            MixedMessages.AssertMessage(i, new ReadOnlySequence<byte>(messages[i]));
        }

        Assert.Equal(1, server.SessionCount);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MessagesLargerThanOneBuffer_WrittenInPieces_ArriveWhole_BetweenSmallOnes(bool flushMidMessage)
    {
        // A message that outgrows 1 MiB continues in a fresh buffer; frames of its earlier pieces carry no
        // end-of-message flag, so the client still sees one message of the exact bytes, in order with its neighbours.
        var factory = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart());
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        int[] sizes = [3, 5 * 1024 * 1024 + 123, 7, 1024 * 1024 + 1, 0, 2 * 1024 * 1024];
        var endpoint = new EndpointAddress("tcp", "tests", "pieces");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            for (var index = 0; index < sizes.Length; index++)
            {
                var message = new byte[sizes[index]];
                MixedMessages.Fill(index, message);
                for (var offset = 0; offset < message.Length; offset += 7000)
                {
                    responses.Write(message.AsSpan(offset, Math.Min(7000, message.Length - offset)));
                    if (flushMidMessage && offset % (700 * 7000) == 0)
                    {
                        await responses.FlushAsync(request.RequestAborted);
                    }
                }

                responses.EndMessage();
            }

            await responses.FlushAsync(request.RequestAborted);
        }));

        var messages = await Echo.CallAsync(client, server.Address, Echo.Request((endpoint, instance), [0]));
        Assert.Equal(sizes, messages.Select(m => m.Length));
        for (var index = 0; index < sizes.Length; index++)
        {
            var expected = new byte[sizes[index]];
            MixedMessages.Fill(index, expected);
            Assert.True(expected.AsSpan().SequenceEqual(messages[index]), $"message {index} differs");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task MessageOverTheLimit_AfterPiecesWereSent_EndsTheStreamWithPayloadTooLarge_AndTheWriterRefusesMore()
    {
        var options = TestOptions.Loopback();
        options.MaxPayloadBytes = 2 * 1024 * 1024;
        var factory = new TcpTransportFactory(options, TestCodecs.TwoPart());
        await using var server = (TcpServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var echo = Echo.Serve(server);
        var endpoint = new EndpointAddress("tcp", "tests", "too-large");
        var instance = InstanceId.NewId();
        var refusedAfter = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            var piece = new byte[64 * 1024];
            try
            {
                for (var written = 0; written < 3 * 1024 * 1024; written += piece.Length)
                {
                    responses.Write(piece);
                    await responses.FlushAsync(request.RequestAborted);
                }
            }
            catch (PlexusException)
            {
                // A handler that carries on after the refusal must not glue a new message onto the pieces sent.
                refusedAfter.TrySetResult(Record.Exception(() => responses.Write("next"u8)));
                throw;
            }
        }));

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request((endpoint, instance), [0])));
        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.IsType<PlexusException>(await refusedAfter.Task.WaitAsync(Echo.Bound));
        Assert.Equal([5], Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, [5]))));
        Assert.Equal(1, server.SessionCount);
    }
}
