using System.Buffers;
using System.Security.Cryptography;

namespace Plexus.Transport.Conformance;

/// <summary>Drain and registration: new work refused, work in flight finished or aborted, endpoints added and removed.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>Kit rule: Drain refuses new requests finishes in flight ones then completes.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task Drain_RefusesNewRequests_FinishesInFlightOnes_ThenCompletes()
    {
        await LeaveTestContext();

        var gated = new GatedHandler();
        var (slow, slowInstance) = Serve(gated, "slow");
        var (echo, echoInstance) = Serve(new EchoHandler(), "echo");

        var stream = await SendAsync(NewRequest(slow, slowInstance, "in flight"u8.ToArray()));
        await using (stream)
        {
            await gated.Started.Task.WaitAsync(StepTimeout);
            var drain = Server.DrainAsync(CancellationToken.None).AsTask();

            var refused = await WaitUntilRefusedAsync(NewRequest(echo, echoInstance, "x"u8.ToArray()));
            Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
            Assert.True(refused.BeforeFirstByte, "A draining server never started the request: it is safe elsewhere.");
            Assert.False(drain.IsCompleted, "The drain completed while a request was still in flight.");

            gated.Release();
            Assert.True(await MoveNextAsync(stream));
            Assert.Equal("in flight"u8.ToArray(), stream.Current.ToArray());
            Assert.False(await MoveNextAsync(stream));

            await drain.WaitAsync(StepTimeout);
        }

        var afterwards = await CallExpectingFailureAsync(NewRequest(echo, echoInstance, "x"u8.ToArray()));
        Assert.Equal(PlexusErrorCode.Unavailable, afterwards.Code);
    }

    /// <summary>Kit rule: Drain when its token fires aborts what is still in flight.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task Drain_WhenItsTokenFires_AbortsWhatIsStillInFlight()
    {
        await LeaveTestContext();

        var handler = new BlockingHandler();
        var (endpoint, instance) = Serve(handler);

        var stream = await SendAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
        await using (stream)
        {
            await ReadReadyAsync(stream, handler);
            using var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            try
            {
                await Server.DrainAsync(grace.Token).AsTask().WaitAsync(StepTimeout);
            }
            catch (OperationCanceledException) when (grace.IsCancellationRequested)
            {
                // Reporting the expired grace period as a cancellation is acceptable; the server must be closed either way.
            }

            await handler.AbortedAt.Task.WaitAsync(AbortWait);
            var error = Assert.IsAssignableFrom<PlexusException>(await Record(stream.MoveNextAsync().AsTask()));
            Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        }
    }

    /// <summary>Kit rule: Two endpoints on one server each reaches its own handler.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task TwoEndpointsOnOneServer_EachReachesItsOwnHandler()
    {
        await LeaveTestContext();

        var (alpha, alphaInstance) = Serve(new FixedReplyHandler("alpha"u8.ToArray()), "alpha");
        var (beta, betaInstance) = Serve(new FixedReplyHandler("beta"u8.ToArray()), "beta");

        Assert.Equal("alpha"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(alpha, alphaInstance, "x"u8.ToArray()))));
        Assert.Equal("beta"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(beta, betaInstance, "x"u8.ToArray()))));
        Assert.Throws<InvalidOperationException>(() => Server.Register(alpha, InstanceId.NewId(), new EchoHandler()));
    }

    /// <summary>Kit rule: Unregister refuses new requests lets in flight ones finish and allows registering again.</summary>
    [Fact(Timeout = TestTimeoutMilliseconds)]
    public async Task Unregister_RefusesNewRequests_LetsInFlightOnesFinish_AndAllowsRegisteringAgain()
    {
        await LeaveTestContext();

        var gated = new GatedHandler();
        var (endpoint, instance) = Serve(gated);

        var stream = await SendAsync(NewRequest(endpoint, instance, "in flight"u8.ToArray()));
        await using (stream)
        {
            await gated.Started.Task.WaitAsync(StepTimeout);

            Assert.True(Server.Unregister(endpoint));
            Assert.False(Server.Unregister(endpoint));
            var refused = await CallExpectingFailureAsync(NewRequest(endpoint, instance, "x"u8.ToArray()));
            Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
            Assert.True(refused.BeforeFirstByte);

            gated.Release();
            Assert.True(await MoveNextAsync(stream));
            Assert.Equal("in flight"u8.ToArray(), stream.Current.ToArray());
            Assert.False(await MoveNextAsync(stream));
        }

        Server.Register(endpoint, instance, new EchoHandler());
        Assert.Equal("back"u8.ToArray(), Assert.Single(await CallAsync(NewRequest(endpoint, instance, "back"u8.ToArray()))));
    }
}
