using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Plexus.Transport.Conformance;

/// <summary>Unary calls and streams: what the handler sends arrives complete, in order and intact, with the request's context.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>Kit rule: Unary echo returns the payload as one message.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task UnaryEcho_ReturnsThePayloadAsOneMessage()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());
        var payload = "hello, plexus"u8.ToArray();

        var messages = await CallAsync(NewRequest(endpoint, instance, payload));

        Assert.Equal(payload, Assert.Single(messages));
    }

    /// <summary>Kit rule: Callers buffer is free once send async completes.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task CallersBuffer_IsFreeOnceSendAsyncCompletes()
    {
        await LeaveTestContext();

        var handler = new GatedHandler();
        var (endpoint, instance) = Serve(handler);
        var buffer = Pattern(64 * 1024, seed: 7);
        var original = buffer.ToArray();

        var stream = await SendAsync(NewRequest(endpoint, instance, buffer));
        await using (stream)
        {
            // The contract says the transport is done with the payload now: scribbling over it must change nothing.
            Array.Fill(buffer, (byte)0xEE);
            handler.Release();

            Assert.True(await MoveNextAsync(stream));
            Assert.Equal(original, stream.Current.ToArray());
            Assert.False(await MoveNextAsync(stream));
        }
    }

    /// <summary>Kit rule: Stream of ten thousand messages arrives complete and in order.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task StreamOfTenThousandMessages_ArrivesCompleteAndInOrder()
    {
        await LeaveTestContext();

        const int Count = 10_000;
        var (endpoint, instance) = Serve(new CounterStreamHandler());
        var countPayload = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(countPayload, Count);

        var stream = await SendAsync(NewRequest(endpoint, instance, countPayload));
        var received = 0;
        await using (stream)
        {
            var message = new byte[4 + 16];
            while (await MoveNextAsync(stream))
            {
                var current = stream.Current;
                if (current.Length != CounterStreamHandler.MessageLength(received))
                {
                    Assert.Fail($"Message {received} is {current.Length} bytes; expected {CounterStreamHandler.MessageLength(received)}.");
                }

                current.CopyTo(message);
                var sequence = BinaryPrimitives.ReadInt32LittleEndian(message);
                if (sequence != received)
                {
                    Assert.Fail($"Message {received} carries sequence number {sequence}: messages were lost, repeated or reordered.");
                }

                for (var i = 4; i < current.Length; i++)
                {
                    if (message[i] != (byte)sequence)
                    {
                        Assert.Fail($"Message {received} has a wrong byte at offset {i}.");
                    }
                }

                received++;
            }
        }

        Assert.Equal(Count, received);
    }

    /// <summary>Kit rule: Small messages flushed together, with large ones among them, arrive complete, in order and intact.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task SmallMessagesFlushedTogether_WithLargeOnesAmongThem_ArriveInOrderAndIntact()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new MixedSizeStreamHandler(), "mixed-sizes");

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        var received = 0;
        await using (stream)
        {
            var message = new byte[100 * 1024];
            while (await MoveNextAsync(stream))
            {
                var current = stream.Current;
                var expected = MixedSizeStreamHandler.MessageLength(received);
                if (current.Length != expected)
                {
                    Assert.Fail($"Message {received} is {current.Length} bytes; expected {expected}: messages were lost, merged or reordered.");
                }

                current.CopyTo(message);
                for (var offset = 0; offset < expected; offset++)
                {
                    var want = offset < sizeof(int) && expected >= sizeof(int) ? (byte)(received >> (8 * offset)) : MixedSizeStreamHandler.ByteAt(received, offset);
                    if (message[offset] != want)
                    {
                        Assert.Fail($"Message {received} ({expected} bytes) has a wrong byte at offset {offset}.");
                    }
                }

                received++;
            }
        }

        Assert.Equal(MixedSizeStreamHandler.Count, received);
    }

    /// <summary>Kit rule: Empty payload is echoed as one empty message.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task EmptyPayload_IsEchoedAsOneEmptyMessage()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());

        var messages = await CallAsync(NewRequest(endpoint, instance, ReadOnlyMemory<byte>.Empty));

        Assert.Empty(Assert.Single(messages));
    }

    /// <summary>Kit rule: Empty messages arrive as messages and a stream may have none.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task EmptyMessages_ArriveAsMessages_AndAStreamMayHaveNone()
    {
        await LeaveTestContext();

        var (emptyMessages, emptyInstance) = Serve(new EmptyMessagesHandler(), "empty-messages");
        var (silent, silentInstance) = Serve(new SilentHandler(), "silent");

        var messages = await CallAsync(NewRequest(emptyMessages, emptyInstance, "x"u8.ToArray()));
        var none = await CallAsync(NewRequest(silent, silentInstance, "x"u8.ToArray()));

        Assert.Equal(3, messages.Count);
        Assert.Empty(messages[0]);
        Assert.Equal([0x2A], messages[1]);
        Assert.Empty(messages[2]);
        Assert.Empty(none);
    }

    /// <summary>Kit rule: Request context carries endpoint request id headers deadline and payload intact.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task RequestContext_CarriesEndpointRequestIdHeadersDeadlineAndPayloadIntact()
    {
        await LeaveTestContext();

        var withAll = new CapturingHandler();
        var withNothing = new CapturingHandler();
        var (full, fullInstance) = Serve(withAll, "full");
        var (bare, bareInstance) = Serve(withNothing, "bare");
        var headers = new Dictionary<string, string>
        {
            [PlexusHeaders.TraceParent] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            [PlexusHeaders.TraceState] = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
            ["x-tenant"] = "acme",
            ["x-empty"] = string.Empty,
            ["x-unicode"] = "naïve ✓ 日本",
        };
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);
        var requestId = $"req-{Guid.NewGuid():N}";
        var payload = Pattern(1000, seed: 3);

        Assert.Empty(await CallAsync(new OutgoingRequest(full, fullInstance, requestId, new ReadOnlySequence<byte>(payload), headers, deadline)));
        Assert.Empty(await CallAsync(new OutgoingRequest(bare, bareInstance, "bare-request", ReadOnlySequence<byte>.Empty, NoHeaders, Deadline: null)));

        var seen = await withAll.Seen.Task.WaitAsync(StepTimeout);
        Assert.Equal(full, seen.Endpoint);
        Assert.Equal(requestId, seen.RequestId);
        Assert.Equal(payload, seen.Payload);
        foreach (var (name, value) in headers)
        {
            Assert.True(seen.Headers.TryGetValue(name, out var arrived), $"Header '{name}' did not arrive.");
            Assert.Equal(value, arrived);
        }

        Assert.NotNull(seen.Deadline);
        Assert.True(
            (seen.Deadline.Value - deadline).Duration() <= TimeSpan.FromMilliseconds(1),
            $"The deadline arrived as {seen.Deadline:O}; it was sent as {deadline:O}.");
        Assert.False(seen.AbortedOnArrival);

        var bareSeen = await withNothing.Seen.Task.WaitAsync(StepTimeout);
        Assert.Equal("bare-request", bareSeen.RequestId);
        Assert.Null(bareSeen.Deadline);
        Assert.Empty(bareSeen.Payload);
    }
}
