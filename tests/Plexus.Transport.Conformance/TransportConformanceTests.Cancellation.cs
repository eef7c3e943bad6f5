using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;

namespace Plexus.Transport.Conformance;

/// <summary>Cancellation and deadlines: the caller's token, disposing the stream and a deadline all reach the handler promptly.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>Kit rule: Cancelling the send token reaches the handler promptly.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task CancellingTheSendToken_ReachesTheHandlerPromptly()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);
        using var cancellation = new CancellationTokenSource();

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()), cancellation.Token);
        await using (stream)
        {
            await ReadReadyAsync(stream, handler);
            var next = stream.MoveNextAsync().AsTask();

            var cancelledAt = Stopwatch.GetTimestamp();
            cancellation.Cancel();

            AssertPrompt(cancelledAt, await handler.AbortedAt.Task.WaitAsync(AbortWait));
            AssertCancelled(await Record(next));
        }
    }

    /// <summary>Kit rule: Cancelling the move next token reaches the handler promptly.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task CancellingTheMoveNextToken_ReachesTheHandlerPromptly()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);
        using var cancellation = new CancellationTokenSource();

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            await ReadReadyAsync(stream, handler);
            var next = stream.MoveNextAsync(cancellation.Token).AsTask();

            var cancelledAt = Stopwatch.GetTimestamp();
            cancellation.Cancel();

            AssertPrompt(cancelledAt, await handler.AbortedAt.Task.WaitAsync(AbortWait));
            AssertCancelled(await Record(next));
        }
    }

    /// <summary>Kit rule: Disposing the stream before its end reaches the handler promptly.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task DisposingTheStreamBeforeItsEnd_ReachesTheHandlerPromptly()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await ReadReadyAsync(stream, handler);

        var disposedAt = Stopwatch.GetTimestamp();
        await stream.DisposeAsync().AsTask().WaitAsync(StepTimeout);

        AssertPrompt(disposedAt, await handler.AbortedAt.Task.WaitAsync(AbortWait));
    }

    /// <summary>Kit rule: Deadline in the past fails with timeout.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task DeadlineInThePast_FailsWithTimeout()
    {
        await LeaveTestContext();

        var (endpoint, instance) = Serve(new BlockingHandler());

        var error = await CallExpectingFailureAsync(
            NewRequest(endpoint, instance, "x"u8.ToArray(), deadline: DateTimeOffset.UtcNow.AddSeconds(-1)));

        Assert.Equal(PlexusErrorCode.Timeout, error.Code);
    }

    /// <summary>Kit rule: Short deadline fires the handlers token and the client gets timeout.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task ShortDeadline_FiresTheHandlersToken_AndTheClientGetsTimeout()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);
        var deadline = DateTimeOffset.UtcNow.AddMilliseconds(500);

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray(), deadline: deadline));
        await using (stream)
        {
            // The "ready" message may or may not make it before the deadline on a busy machine; the end must be Timeout.
            var error = Assert.IsAssignableFrom<PlexusException>(await Record(ReadToEndAsync(stream)));
            Assert.Equal(PlexusErrorCode.Timeout, error.Code);

            var firedAt = await handler.AbortedAtWallClock.Task.WaitAsync(StepTimeout);
            Assert.True(
                firedAt >= deadline.AddMilliseconds(-50),
                $"The handler's token fired at {firedAt:O}, before the deadline {deadline:O}.");
        }
    }

    /// <summary>Kit rule: Handler ignoring its token failing past the deadline is timeout not handler error and the connection survives.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task HandlerIgnoringItsToken_FailingPastTheDeadline_IsTimeoutNotHandlerError_AndTheConnectionSurvives()
    {
        await LeaveTestContext();

        // Runs on past the deadline, then fails with an exception of its own: once the deadline fired the handler's
        // token, whatever it throws is the deadline's doing.
        var handler = new OverrunningHandler();
        var (endpoint, instance) = Serve(handler, "overrunning");
        var (echo, echoInstance) = Serve(new EchoHandler(), "echo");

        var error = await CallExpectingFailureAsync(NewRequest(endpoint, instance, "x"u8.ToArray(), deadline: DateTimeOffset.UtcNow.AddSeconds(2)));

        Assert.Equal(PlexusErrorCode.Timeout, error.Code);
        Assert.DoesNotContain(OverrunningHandler.Failure, error.Message, StringComparison.Ordinal);
        await handler.AbortedAtWallClock.Task.WaitAsync(StepTimeout);

        // The handler's late failure, sent for a request its client gave up on, costs nothing else.
        await handler.Finished.Task.WaitAsync(StepTimeout);
        Assert.Equal("still here"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(echo, echoInstance, "still here"u8.ToArray()))));
    }
}
