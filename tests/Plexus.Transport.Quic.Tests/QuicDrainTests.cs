using System.Buffers;
using System.Diagnostics;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// Drain over QUIC: StopAcceptingAsync sends GOAWAY on every connection; the client then refuses new requests to that
/// address at once, before the first byte (so a router sends them elsewhere), while requests in flight finish.
/// </summary>
public sealed class QuicDrainTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    [Fact(Timeout = 60_000)]
    public async Task GoAway_SendsNewRequestsElsewhere_WhileInFlightOnesFinish()
    {
        await using var draining = await StartServerAsync();
        await using var other = await StartServerAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = QuicEcho.Serve(draining, "slow", async (request, responses) =>
        {
            started.TrySetResult();
            await release.Task.WaitAsync(request.RequestAborted);
            await responses.WriteMessageAsync("finished"u8.ToArray(), request.RequestAborted);
        });
        var echo = QuicEcho.Serve(draining);
        var elsewhere = QuicEcho.Serve(other);
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();

        await using var inFlight = await client.SendAsync(draining.Address, QuicEcho.Request(slow, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        await started.Task.WaitAsync(QuicEcho.Bound);
        var stopped = draining.StopAcceptingAsync(CancellationToken.None).AsTask();

        // A request the server sees after its GOAWAY is refused by the server; once the client has read the GOAWAY it
        // refuses new requests to that address itself, at once. Both before the first byte.
        var refused = await RefusedAsync(client, draining.Address, QuicEcho.Request(echo, "new"u8.ToArray()), byClient: false);
        Assert.Equal(PlexusErrorCode.Unavailable, refused.Error.Code);
        Assert.True(refused.Error.BeforeFirstByte, "A draining server never started the request: it is safe elsewhere.");
        refused = await RefusedAsync(client, draining.Address, QuicEcho.Request(echo, "new"u8.ToArray()), byClient: true);
        Assert.True(refused.Error.BeforeFirstByte);
        Assert.True(refused.Took < TimeSpan.FromSeconds(2), $"The refusal took {refused.Took.TotalMilliseconds} ms; it must not wait for a handshake.");
        await stopped.WaitAsync(QuicEcho.Bound);

        // Elsewhere (what PlexusClient does with a BeforeFirstByte failure) it is served.
        Assert.Equal("new"u8.ToArray(), Assert.Single(await QuicEcho.CallAsync(client, other.Address, QuicEcho.Request(elsewhere, "new"u8.ToArray()))));

        // The request in flight finishes on the draining server.
        release.SetResult();
        Assert.True(await inFlight.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.Equal("finished"u8.ToArray(), inFlight.Current.ToArray());
        Assert.False(await inFlight.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.Equal(HealthStatus.Degraded, draining.Health.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestsAfterStopAccepting_AreRefusedBeforeFirstByte_OnAnOpenConnection()
    {
        await using var server = await StartServerAsync();
        var echo = QuicEcho.Serve(server);
        await using var first = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();
        Assert.Single(await QuicEcho.CallAsync(first, server.Address, QuicEcho.Request(echo, "before"u8.ToArray())));

        await server.StopAcceptingAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(first, server.Address, QuicEcho.Request(echo, "after"u8.ToArray())));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
    }

    // Calls until a call fails (with byClient, until the client itself refuses because of the GOAWAY it read).
    private static async Task<(PlexusException Error, TimeSpan Took)> RefusedAsync(IRequestPlaneClient client, Uri address, OutgoingRequest request, bool byClient)
    {
        var giveUp = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                await QuicEcho.CallAsync(client, address, request with { RequestId = Guid.NewGuid().ToString("N") });
            }
            catch (PlexusException refused) when (!byClient || refused.Message.Contains("is going away", StringComparison.Ordinal))
            {
                return (refused, Stopwatch.GetElapsedTime(start));
            }
            catch (PlexusException) when (byClient)
            {
                // Refused by the server: the GOAWAY is still on its way.
            }

            Assert.True(Stopwatch.GetTimestamp() < giveUp, "The draining server kept taking new requests.");
            await Task.Delay(10);
        }
    }

    private async Task<IRequestPlaneServer> StartServerAsync()
    {
        var server = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        return server;
    }
}
