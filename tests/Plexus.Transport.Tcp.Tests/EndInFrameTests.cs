using System.Buffers.Binary;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// Version 3 on the server, seen from a raw client: a response's normal end travels as END_STREAM in its last DATA or
/// MESSAGES frame whenever that frame has not been written yet, so a unary answer is one frame; a message flushed before
/// the handler awaits is not held back past the await; and the end joins a frame still waiting behind a busy writer.
/// </summary>
public sealed class EndInFrameTests
{
    private const int AnswerBytes = 64;

    [Theory(Timeout = 60_000)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public async Task UnaryAnswer_OnVersion3_IsOneDataFrameThatEndsTheStream(bool lowLatency, bool flushes)
    {
        await using var server = await StartAsync(lowLatency);
        var target = ServeUnary(server, flushes);
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, RawWire.Hello(highestVersion: Wire.Version));
        Assert.Equal(Wire.EndInFrameVersion, peer.Version);

        for (uint id = 1; id <= 20; id++)
        {
            if (id % 2 == 0)
            {
                await peer.SendAsync(RawWire.RequestFrame(id, Echo.Request(target, [(byte)id])));
            }
            else
            {
                // END_STREAM from the client keeps its meaning: the DATA frame carries the last request payload byte.
                await peer.SendAsync(RawWire.RequestFrame(id, Echo.Request(target, []), endStream: false, declaredLength: 1));
                await peer.SendAsync(RawWire.DataFrame(id, Wire.EndStream, [(byte)id]));
            }

            // The very next frame is the whole answer, and nothing of the stream follows it: no END before the next one.
            var (header, body) = await peer.ReadAsync();
            Assert.Equal(FrameType.Data, header.Type);
            Assert.Equal(id, header.StreamId);
            Assert.Equal(Wire.EndMessage | Wire.EndStream, header.Flags);
            Assert.Equal(Answer((byte)id), body);
        }

        Assert.False(await peer.HasFrameWithinAsync(TimeSpan.FromMilliseconds(200)), "A frame followed the last answer.");
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MessageFlushedBeforeAnAwait_GoesOutAtOnce_AndTheEndFollowsAsEnd(bool lowLatency)
    {
        await using var server = await StartAsync(lowLatency);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var target = Serve(server, "waits", async (request, responses) =>
        {
            await responses.WriteMessageAsync(new byte[] { 1, 2, 3 }, request.RequestAborted);
            await release.Task;
        });
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, RawWire.Hello(highestVersion: Wire.Version));

        await peer.SendAsync(RawWire.RequestFrame(1, Echo.Request(target, [0])));

        // The handler still waits: the message was not held back for the end.
        var (data, body) = await peer.ReadAsync();
        Assert.Equal(FrameType.Data, data.Type);
        Assert.Equal(Wire.EndMessage, data.Flags);
        Assert.Equal([1, 2, 3], body);
        release.SetResult();

        // That frame was written already, so the end comes on its own.
        var (end, _) = await peer.ReadAsync();
        Assert.Equal(FrameType.End, end.Type);
        Assert.Equal(1u, end.StreamId);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FinalFlush_ItsLastFrameCarriesTheEnd(bool pieces)
    {
        await using var server = await StartAsync(lowLatency: false);
        var target = Serve(server, "final", async (request, responses) =>
        {
            for (var i = 0; i < 3; i++)
            {
                responses.WriteMessage(new byte[] { (byte)i });
            }

            await responses.FlushAsync(request.RequestAborted);
            if (pieces)
            {
                // A message larger than a frame, unflushed: its last piece ends the stream.
                responses.WriteMessage(new byte[150_000]);
                return;
            }

            // A large message (a DATA frame) closes the batch, so the last small ones start a MESSAGES frame of their own.
            await responses.WriteMessageAsync(new byte[10_000], request.RequestAborted);
            for (var i = 0; i < 5; i++)
            {
                responses.WriteMessage(new byte[] { (byte)(10 + i) });
            }
        });
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, RawWire.Hello(highestVersion: Wire.Version));

        await peer.SendAsync(RawWire.RequestFrame(1, Echo.Request(target, [0])));
        var (frames, messages) = await ReadResponseAsync(peer, 1);

        var last = frames[^1];
        Assert.True(frames.TrueForAll(frame => frame.Type != FrameType.End), "An END frame followed the last frame.");
        Assert.Single(frames, frame => (frame.Flags & Wire.EndStream) != 0);
        if (pieces)
        {
            Assert.Equal(4, messages.Count);
            Assert.Equal(150_000, messages[3].Length);
            Assert.Equal(FrameType.Data, last.Type);
            Assert.Equal(Wire.EndMessage | Wire.EndStream, last.Flags);
            Assert.Equal(0, frames[^2].Flags);
        }
        else
        {
            Assert.Equal(9, messages.Count);
            Assert.Equal(10_000, messages[3].Length);
            Assert.Equal([14], messages[8]);
            Assert.Equal(FrameType.Messages, last.Type);
            Assert.Equal(5ul, last.Value);
            Assert.Equal(Wire.EndStream, last.Flags);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResponseQueuedBehindABusyWriter_EndsInItsLastFrame(bool awaitsFirst)
    {
        var options = Options(lowLatency: false);
        await using var server = (TcpServer)new TcpTransportFactory(options, TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        // Up to 15 answers of a million bytes: within the connection window of 16 MiB, so none waits for credit.
        const int MaxBulk = 15;
        const int BulkBytes = 1_000_000;
        var bulkDone = 0;
        var bulk = Serve(server, "bulk", async (request, responses) =>
        {
            await responses.WriteMessageAsync(new byte[BulkBytes], request.RequestAborted);
            Interlocked.Increment(ref bulkDone);
        });
        const int Count = 50;
        var streamed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var streaming = Serve(server, "streaming", async (request, responses) =>
        {
            if (awaitsFirst)
            {
                // Past its first await, nothing is held back: the end can only join the frame while it waits in the queue.
                await Task.Yield();
                await responses.WriteMessageAsync(BitConverter.GetBytes(0), request.RequestAborted);
            }
            else
            {
                for (var i = 0; i < Count; i++)
                {
                    await responses.WriteMessageAsync(BitConverter.GetBytes(i), request.RequestAborted);
                }
            }

            streamed.SetResult();
        });

        // A peer that reads nothing for now, with a small socket buffer: answers fill the socket (and the kernel's buffers,
        // a few megabytes), and the writer waits for it with the rest in its queue.
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!, RawWire.Hello(highestVersion: Wire.Version), receiveBufferBytes: 64 * 1024);
        uint bulkStreams = 0;
        var deadline = DateTime.UtcNow + Echo.Bound;
        while (server.QueuedDataBytes <= 1024 * 1024 && bulkStreams < MaxBulk && DateTime.UtcNow < deadline)
        {
            await peer.SendAsync(RawWire.RequestFrame(++bulkStreams, Echo.Request(bulk, [0])));
            while (Volatile.Read(ref bulkDone) < bulkStreams && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            await Task.Delay(50);
        }

        Assert.True(server.QueuedDataBytes > 1024 * 1024, $"The writer was not held up: only {server.QueuedDataBytes} bytes wait for the peer.");
        var streamId = bulkStreams + 1;
        await peer.SendAsync(RawWire.RequestFrame(streamId, Echo.Request(streaming, [0])));
        await streamed.Task.WaitAsync(Echo.Bound);

        // The handler has returned; its end is settled a moment later on the same thread, before the peer reads anything.
        await Task.Delay(300);
        var (frames, messages) = await ReadResponseAsync(peer, streamId);

        var expected = awaitsFirst ? 1 : Count;
        Assert.Equal(expected, messages.Count);
        for (var i = 0; i < expected; i++)
        {
            Assert.Equal(i, BinaryPrimitives.ReadInt32LittleEndian(messages[i]));
        }

        Assert.True(frames.TrueForAll(frame => frame.Type != FrameType.End), "The end came as an END frame although the last frame still waited.");
        Assert.Equal(awaitsFirst ? FrameType.Data : FrameType.Messages, frames[^1].Type);
        Assert.NotEqual(0, frames[^1].Flags & Wire.EndStream);
    }

    // Reads frames until the stream's end, skipping other streams'; returns the stream's frames and its messages.
    private static async Task<(List<FrameHeader> Frames, List<byte[]> Messages)> ReadResponseAsync(RawPeer peer, uint streamId)
    {
        var frames = new List<FrameHeader>();
        var messages = new List<byte[]>();
        var assembling = new List<byte>();
        while (true)
        {
            var (header, body) = await peer.ReadAsync();
            if (header.StreamId != streamId)
            {
                continue;
            }

            frames.Add(header);
            switch (header.Type)
            {
                case FrameType.Messages:
                    Assert.Empty(assembling);
                    messages.AddRange(RawWire.Unpack(body, header.Value));
                    break;
                case FrameType.Data:
                    assembling.AddRange(body);
                    if ((header.Flags & Wire.EndMessage) != 0)
                    {
                        messages.Add([.. assembling]);
                        assembling.Clear();
                    }

                    break;
                case FrameType.End:
                    return (frames, messages);
                default:
                    Assert.Fail($"Stream {streamId} ended with {header.Type}.");
                    break;
            }

            if ((header.Flags & Wire.EndStream) != 0)
            {
                return (frames, messages);
            }
        }
    }

    private static byte[] Answer(byte request)
    {
        var answer = new byte[AnswerBytes];
        answer.AsSpan().Fill(request);
        return answer;
    }

    private static (EndpointAddress Endpoint, InstanceId Instance) ServeUnary(IRequestPlaneServer server, bool flushes) =>
        Serve(server, "unary", (request, responses) =>
        {
            // As a unary handler answers: one message, then return; flushed or left to the end.
            responses.WriteMessage(Answer(request.Payload.FirstSpan[0]));
            return flushes ? responses.FlushAsync(request.RequestAborted) : default;
        });

    private static (EndpointAddress Endpoint, InstanceId Instance) Serve(IRequestPlaneServer server, string name, Func<RequestContext, IResponseWriter, ValueTask> handle)
    {
        var endpoint = new EndpointAddress("tcp", "tests", name);
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(handle));
        return (endpoint, instance);
    }

    private static async Task<TcpServer> StartAsync(bool lowLatency)
    {
        var server = (TcpServer)new TcpTransportFactory(Options(lowLatency), TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    // No keep-alive during a test, so that every frame that arrives belongs to a response.
    private static TcpTransportOptions Options(bool lowLatency)
    {
        var options = TestOptions.Loopback();
        options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        options.KeepAliveTimeout = TimeSpan.FromSeconds(60);
        options.LowLatency = lowLatency;
        return options;
    }
}
