using System.Diagnostics;
using System.Security.Cryptography;

namespace Plexus.Transport.Conformance;

/// <summary>A peer that writes without reading: the server's memory stays bounded and comes back once the peer leaves.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>Kit rule: Peer that writes without reading keeps server memory bounded and other clients are served.</summary>
    [Fact(Timeout = 2 * TestTimeoutMilliseconds)]
    public async Task PeerThatWritesWithoutReading_KeepsServerMemoryBounded_AndOtherClientsAreServed()
    {
        await LeaveTestContext();

        var (flooded, floodedInstance) = Serve(new SlowWriterHandler(1024), "flooded");
        var (echo, echoInstance) = Serve(new EchoHandler(), "echo");
        var payload = Pattern(4096, seed: 17);

        // Both paths once before the baseline, so that what a first call sets up is not counted as growth.
        Assert.Equal(payload, Assert.Single(await CallAsync(NewRequest(echo, echoInstance, payload))));
        var baseline = LiveBytes();
        long worstGrowth = 0;
        var answered = 0;
        var peer = await StartPeerThatNeverReadsAsync(new FloodTarget(Server.Address, flooded, floodedInstance));
        try
        {
            var until = Stopwatch.GetTimestamp() + (long)(FloodDuration.TotalSeconds * Stopwatch.Frequency);
            var nextMeasure = 0L;
            while (Stopwatch.GetTimestamp() < until)
            {
                // Another client carries on: every call is answered, each within the step bound.
                Assert.Equal(payload, Assert.Single(await CallAsync(NewRequest(echo, echoInstance, payload))));
                answered++;
                if (Stopwatch.GetTimestamp() >= nextMeasure)
                {
                    worstGrowth = Math.Max(worstGrowth, LiveBytes() - baseline);
                    nextMeasure = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 2);
                }

                await Task.Delay(10);
            }

            worstGrowth = Math.Max(worstGrowth, LiveBytes() - baseline);
        }
        finally
        {
            await peer.DisposeAsync().AsTask().WaitAsync(StepTimeout);
        }

        Assert.True(
            worstGrowth <= MaxMemoryGrowthUnderFlood,
            $"Live memory grew by {worstGrowth / MiB} MiB while a peer wrote without reading; the transport declares at most {MaxMemoryGrowthUnderFlood / MiB} MiB.");
        Assert.True(answered >= 3, $"Only {answered} calls of another client were answered while a peer wrote without reading.");

        // Once the peer has gone, its memory comes back and the server still serves.
        Assert.Equal(payload, Assert.Single(await CallAsync(NewRequest(echo, echoInstance, payload))));
        var left = LiveBytes() - baseline;
        var giveUp = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        while (left > MaxMemoryLeftAfterFlood && Stopwatch.GetTimestamp() < giveUp)
        {
            await Task.Delay(200);
            left = LiveBytes() - baseline;
        }

        Assert.True(
            left <= MaxMemoryLeftAfterFlood,
            $"{left / MiB} MiB of live memory stayed after the peer that wrote without reading had gone; the transport declares at most {MaxMemoryLeftAfterFlood / MiB} MiB.");
    }
}
