using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A token stream keeps its buffers: the server writes a full buffer again from the front once every frame from it is
/// on the socket, and the client does the same with a block its caller has read to the end. Nothing may be
/// overwritten that is still to be sent or read, whatever the sizes and the pace.
/// </summary>
public sealed class BufferReuseTests
{
    [Fact(Timeout = 60_000)]
    public async Task TokenStream_ReadTokenByToken_KeepsItsFirstBuffers_OnBothSides()
    {
        const int Tokens = 2000;
        var serverPool = new CountingArrayPool();
        var clientPool = new CountingArrayPool();
        await using var server = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), pool: serverPool).CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart(), pool: clientPool).CreateClient();

        // The handler writes each token once the caller has read the one before, as a paced token stream is read.
        var read = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
        var endpoint = new EndpointAddress("tcp", "tests", "tokens");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            for (var i = 0; i < Tokens; i++)
            {
                if (i > 0)
                {
                    await read.Reader.ReadAsync(request.RequestAborted);
                }

                WriteToken(responses.GetSpan(32)[..32], i);
                responses.Advance(32);
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
            }
        }));

        await using var stream = await client.SendAsync(server.Address, Echo.Request((endpoint, instance), [0]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        var index = 0;
        var serverBefore = 0;
        var clientBefore = 0;
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        while (true)
        {
            var expected = new byte[32];
            WriteToken(expected, index);
            Assert.Equal(expected, stream.Current.ToArray());
            index++;
            if (index == 10)
            {
                // The connection's own buffers are in place by now; what follows is the stream's.
                serverBefore = serverPool.Rented;
                clientBefore = clientPool.Rented;
            }

            // Waiting for the next token before asking for it: the caller has let go of this one when it comes.
            var next = stream.MoveNextAsync();
            read.Writer.TryWrite(index);
            if (!await next.AsTask().WaitAsync(Echo.Bound))
            {
                break;
            }
        }

        Assert.Equal(Tokens, index);

        // 1,990 tokens of 36 bytes are 70 KB: without reuse, a 1 KiB buffer doubling to 8 KiB on the server and a block
        // doubling to 16 KiB on the client are each traded a dozen times. With it, each side keeps what it had,
        // give or take the buffer the response's last frame carries.
        Assert.True(serverPool.Rented - serverBefore == 0, $"The server rented {serverPool.Rented - serverBefore} arrays for 1,990 tokens.");
        Assert.True(clientPool.Rented - clientBefore == 0, $"The client rented {clientPool.Rented - clientBefore} arrays for 1,990 tokens.");
    }

    [Theory(Timeout = 120_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task MessagesOfEverySize_AtEveryPace_ArriveIntact(int seed)
    {
        const int Count = 3000;
        var factory = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart());
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var endpoint = new EndpointAddress("tcp", "tests", "paced");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            var random = new Random(seed);
            for (var i = 0; i < Count; i++)
            {
                var size = Size(random);
                var span = responses.GetSpan(size)[..size];
                Fill(span, i);
                responses.Advance(size);
                responses.EndMessage();

                // Flushed one by one, in small groups, or with a pause, so that some buffers fill while their frames
                // wait for the writer loop and others once everything in them is on the socket.
                switch (random.Next(8))
                {
                    case 0:
                        break;
                    case 1:
                        await responses.FlushAsync(request.RequestAborted);
                        await Task.Delay(1, request.RequestAborted);
                        break;
                    default:
                        await responses.FlushAsync(request.RequestAborted);
                        break;
                }
            }
        }));

        await using var stream = await client.SendAsync(server.Address, Echo.Request((endpoint, instance), [0]), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        var check = new Random(seed);
        var reader = new Random(seed + 1000);
        var index = 0;
        while (await stream.MoveNextAsync().AsTask().WaitAsync(Echo.Bound))
        {
            var size = Size(check);
            check.Next(8);
            var expected = new byte[size];
            Fill(expected, index);
            Assert.True(expected.AsSpan().SequenceEqual(stream.Current.ToArray()), $"Message {index} ({size} bytes) arrived as {stream.Current.Length} different bytes.");
            index++;

            // The caller falls behind now and then, so that the client's blocks fill with unread runs too.
            if (reader.Next(200) == 0)
            {
                await Task.Delay(5);
            }
        }

        Assert.Equal(Count, index);
    }

    private static void WriteToken(Span<byte> token, int sequence)
    {
        token.Fill((byte)sequence);
        BinaryPrimitives.WriteInt32LittleEndian(token, sequence);
    }

    // Mostly token-sized, some a few hundred bytes, a few larger than a packed message may be.
    private static int Size(Random random) => random.Next(20) switch
    {
        0 => random.Next(5000, 20_000),
        < 5 => random.Next(100, 700),
        _ => random.Next(0, 64),
    };

    private static void Fill(Span<byte> message, int index)
    {
        for (var i = 0; i < message.Length; i++)
        {
            message[i] = (byte)(index * 31 + i);
        }
    }
}
