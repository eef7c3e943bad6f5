using System.Buffers;
using System.Security.Cryptography;

namespace Plexus.Transport.Conformance;

/// <summary>Failures: handler exceptions, unknown endpoints and instances, stopped and killed servers, each with its code.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>Kit rule: Handler exception becomes handler error with its message and the connection survives.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlerException_BecomesHandlerErrorWithItsMessage_AndTheConnectionSurvives()
    {
        await LeaveTestContext();

        var (failing, failingInstance) = Serve(new ThrowingHandler(new InvalidOperationException("the model ran out of tokens")), "failing");
        var (echo, echoInstance) = Serve(new EchoHandler(), "echo");

        var error = await CallExpectingFailureAsync(NewRequest(failing, failingInstance, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
        Assert.Contains("the model ran out of tokens", error.Message, StringComparison.Ordinal);
        Assert.False(error.BeforeFirstByte, "The handler ran, so the request must not be marked safe to retry elsewhere.");

        // Same client, same server: both endpoints still answer.
        Assert.Equal("still here"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(echo, echoInstance, "still here"u8.ToArray()))));
        Assert.Equal(PlexusErrorCode.HandlerError, (await CallExpectingFailureAsync(NewRequest(failing, failingInstance, "x"u8.ToArray()))).Code);
    }

    /// <summary>Kit rule: Handler exception after messages delivers the messages first.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlerException_AfterMessages_DeliversTheMessagesFirst()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new ThrowingHandler(new InvalidOperationException("failed half way"), messagesBefore: 3));

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.True(await MoveNextAsync(stream));
                Assert.Equal(ThrowingHandler.MessageAt(i), stream.Current.ToArray());
            }

            var error = Assert.IsAssignableFrom<PlexusException>(await Record(stream.MoveNextAsync().AsTask()));
            Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
            Assert.Contains("failed half way", error.Message, StringComparison.Ordinal);
            Assert.False(error.BeforeFirstByte, "Messages were sent: retrying elsewhere would repeat them.");
        }
    }

    /// <summary>Kit rule: Handler throwing plexus exception keeps its code.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlerThrowingPlexusException_KeepsItsCode()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new ThrowingHandler(new PlexusException(PlexusErrorCode.Overloaded, "12 requests queued; try later")));

        var error = await CallExpectingFailureAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.Overloaded, error.Code);
        Assert.Contains("12 requests queued; try later", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Kit rule: Handlers own retry flag reaches the client only while nothing was sent.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlersOwnRetryFlag_ReachesTheClient_OnlyWhileNothingWasSent()
    {
        await LeaveTestContext();

        // A handler may say "not me, try another instance" (BeforeFirstByte) as long as it has not answered.
        var refusing = new PlexusException(PlexusErrorCode.Overloaded, "queue full; try another instance") { BeforeFirstByte = true };
        var (before, beforeInstance) = Serve(new ThrowingHandler(refusing), "refuses-at-once");
        var (after, afterInstance) = Serve(new ThrowingHandler(refusing, messagesBefore: 1), "refuses-after-a-message");

        var error = await CallExpectingFailureAsync(NewRequest(before, beforeInstance, "x"u8.ToArray()));
        Assert.Equal(PlexusErrorCode.Overloaded, error.Code);
        Assert.True(error.BeforeFirstByte, "Nothing was sent: the handler's own retry flag must reach the client.");

        var stream = await SendAsync(NewRequest(after, afterInstance, "x"u8.ToArray()));
        await using (stream)
        {
            Assert.True(await MoveNextAsync(stream));
            var late = Assert.IsAssignableFrom<PlexusException>(await Record(stream.MoveNextAsync().AsTask()));
            Assert.Equal(PlexusErrorCode.Overloaded, late.Code);
            Assert.False(late.BeforeFirstByte, "A message was sent: retrying elsewhere would repeat it.");
        }
    }

    /// <summary>Kit rule: Unknown endpoint is unavailable before first byte.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task UnknownEndpoint_IsUnavailableBeforeFirstByte()
    {
        await LeaveTestContext();

        var (_, instance) = Serve(new EchoHandler(), "echo");

        var error = await CallExpectingFailureAsync(NewRequest(NewEndpoint("not-registered"), instance, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
    }

    /// <summary>Kit rule: Wrong instance id is unavailable before first byte.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task WrongInstanceId_IsUnavailableBeforeFirstByte()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new EchoHandler());
        var other = new InstanceId(instance.Value ^ 0x5555);

        var error = await CallExpectingFailureAsync(NewRequest(endpoint, other, "x"u8.ToArray()));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
    }

    /// <summary>Kit rule: Stopped server is unavailable before first byte.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task StoppedServer_IsUnavailableBeforeFirstByte()
    {
        await LeaveTestContext();

        var stopped = await StartServerAsync();
        var endpoint = NewEndpoint();
        var instance = InstanceId.NewId();
        stopped.Register(endpoint, instance, new EchoHandler());
        await stopped.DisposeAsync().AsTask().WaitAsync(StepTimeout);

        var error = await CallExpectingFailureAsync(NewRequest(endpoint, instance, "x"u8.ToArray()), stopped.Address);

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
    }

    /// <summary>Kit rule: Killed server fails in flight requests with unavailable promptly.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task KilledServer_FailsInFlightRequestsWithUnavailable_Promptly()
    {
        await LeaveTestContext();

        var blocking = new BlockingHandler();
        var writer = new SlowWriterHandler(4096);
        var (quiet, quietInstance) = Serve(blocking, "quiet");
        var (busy, busyInstance) = Serve(writer, "busy");

        var waiting = await SendAsync(NewRequest(quiet, quietInstance, "x"u8.ToArray()));
        var streaming = await SendAsync(NewRequest(busy, busyInstance, "x"u8.ToArray()));
        await using (waiting)
        await using (streaming)
        {
            await ReadReadyAsync(waiting, blocking);
            Assert.True(await MoveNextAsync(streaming));
            var pending = waiting.MoveNextAsync().AsTask();

            await KillServerAsync(Server).AsTask().WaitAsync(StepTimeout);

            var first = Assert.IsAssignableFrom<PlexusException>(await Record(pending, DeadPeerDetectedWithin));
            Assert.Equal(PlexusErrorCode.Unavailable, first.Code);

            // What was already on its way may still arrive, but the stream must then fail, not hang or end cleanly.
            var second = Assert.IsAssignableFrom<PlexusException>(await Record(ReadToEndAsync(streaming), DeadPeerDetectedWithin));
            Assert.Equal(PlexusErrorCode.Unavailable, second.Code);
        }

        var afterwards = await CallExpectingFailureAsync(NewRequest(quiet, quietInstance, "x"u8.ToArray()));
        Assert.Equal(PlexusErrorCode.Unavailable, afterwards.Code);
        Assert.True(afterwards.BeforeFirstByte);
    }
}
