using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Plexus.Transport.Conformance;

/// <summary>Size and load: large payloads each way, the payload limit, many concurrent requests, a slow consumer.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>Kit rule: Large payload echoed as a stream of chunks arrives intact.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task LargePayload_EchoedAsAStreamOfChunks_ArrivesIntact()
    {
        await LeaveTestContext();

        const int Chunk = MiB;
        var (endpoint, instance) = Serve(new ChunkedEchoHandler(Chunk));
        var payload = Pattern(LargePayloadBytes, seed: 11);
        var expected = SHA256.HashData(payload);

        var stream = await SendAsync(NewRequest(endpoint, instance, payload));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        var messages = 0;
        await using (stream)
        {
            while (await MoveNextAsync(stream))
            {
                foreach (var segment in stream.Current)
                {
                    hash.AppendData(segment.Span);
                }

                total += stream.Current.Length;
                messages++;
            }
        }

        Assert.Equal(payload.LongLength, total);
        Assert.Equal((payload.Length + Chunk - 1) / Chunk, messages);
        Assert.Equal(expected, hash.GetHashAndReset());
    }

    /// <summary>Kit rule: Large payload echoed as one message arrives intact.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task LargePayload_EchoedAsOneMessage_ArrivesIntact()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());
        var payload = Pattern(LargePayloadBytes, seed: 13);
        var expected = SHA256.HashData(payload);

        var stream = await SendAsync(NewRequest(endpoint, instance, payload));
        await using (stream)
        {
            Assert.True(await MoveNextAsync(stream));
            Assert.Equal(payload.LongLength, stream.Current.Length);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var segment in stream.Current)
            {
                hash.AppendData(segment.Span);
            }

            Assert.Equal(expected, hash.GetHashAndReset());
            Assert.False(await MoveNextAsync(stream));
        }
    }

    /// <summary>Kit rule: Payload over the limit is refused with payload too large and the client keeps working.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task PayloadOverTheLimit_IsRefusedWithPayloadTooLarge_AndTheClientKeepsWorking()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());

        // One 1 MiB block repeated: the oversized payload costs the test almost nothing to offer.
        var oversized = RepeatedSegment.Sequence(new byte[MiB], MaxPayloadBytes + 1);
        var error = await CallExpectingFailureAsync(
            new OutgoingRequest(endpoint, instance, NewRequestId(), oversized, NoHeaders, Deadline: null));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Equal("fine"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(endpoint, instance, "fine"u8.ToArray()))));
    }

    /// <summary>Kit rule: Thousand concurrent requests all get their own answer.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task ThousandConcurrentRequests_AllGetTheirOwnAnswer()
    {
        await LeaveTestContext();

        const int Count = 1000;
        var (endpoint, instance) = Serve(new EchoHandler());

        var calls = new Task[Count];
        for (var i = 0; i < Count; i++)
        {
            calls[i] = OneAsync(i);
        }

        await Task.WhenAll(calls).WaitAsync(StepTimeout);

        async Task OneAsync(int i)
        {
            var payload = Encoding.UTF8.GetBytes($"request {i} {new string('x', i % 97)}");
            var messages = await CallAsync(NewRequest(endpoint, instance, payload));
            Assert.Equal(payload, Assert.Single(messages));
        }
    }

    /// <summary>Kit rule: Slow consumer bounds what the handler can get ahead.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task SlowConsumer_BoundsWhatTheHandlerCanGetAhead()
    {
        await LeaveTestContext();

        const int MessageBytes = 16 * 1024;
        var handler = new SlowWriterHandler(MessageBytes);
        var (endpoint, instance) = Serve(handler);

        long read = 0;
        long worstGap = 0;
        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            for (var i = 0; i < 300; i++)
            {
                Assert.True(await MoveNextAsync(stream));
                read += stream.Current.Length;
                worstGap = Math.Max(worstGap, handler.Written - read);

                if (i % 100 == 50)
                {
                    // A long stall: a transport without back-pressure lets the handler run far ahead here.
                    await Task.Delay(250);
                    worstGap = Math.Max(worstGap, handler.Written - read);
                }
                else if (i % 10 == 0)
                {
                    await Task.Delay(1);
                }
            }
        }

        Assert.True(
            worstGap <= MaxBufferedBytes,
            $"The handler got {worstGap} bytes ahead of the client; the transport declares at most {MaxBufferedBytes}.");
        Assert.True(handler.Written >= read, $"The client read {read} bytes but the handler's flushes completed for only {handler.Written}.");

        // Disposing the stream stopped the handler: its flush failed or its token fired.
        var ended = await handler.Ended.Task.WaitAsync(StepTimeout);
        Assert.True(ended is PlexusException or OperationCanceledException, $"The handler ended with {ended.GetType()}: {ended.Message}");
    }
}
