using System.Buffers;
using System.Diagnostics;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// Calls that record how they ended instead of throwing: unary <c>echo</c> calls and short <c>generate</c> streams, each
/// with a deadline, each given up as hung if it has not ended well after it.
/// </summary>
internal static class Traffic
{
    /// <summary>How long past its deadline a call may take before it counts as hung.</summary>
    public static readonly TimeSpan HangAfter = FaultCluster.Slack;

    /// <summary>A unary echo of <paramref name="payload"/>; a reply that differs is an untyped failure.</summary>
    public static Task<CallOutcome> UnaryAsync(IPlexusClient client, byte[] payload, TimeSpan timeout) =>
        MeasureAsync(stream: false, timeout, async count =>
        {
            var reply = await client.CallUnaryAsync(FaultCluster.Echo, payload, new CallOptions(Timeout: timeout));
            count();
            if (!reply.AsSpan().SequenceEqual(payload))
            {
                throw new InvalidOperationException("echo answered other bytes than it was sent");
            }
        });

    /// <summary>A generate stream of <paramref name="tokens"/> tokens after the prompt, read to its end.</summary>
    public static Task<CallOutcome> StreamAsync(IPlexusClient client, int tokens, TimeSpan timeout) =>
        MeasureAsync(stream: true, timeout, async count =>
        {
            var options = new CallOptions(Headers: new Dictionary<string, string> { ["max-tokens"] = tokens.ToString(System.Globalization.CultureInfo.InvariantCulture) }, Timeout: timeout);
            await using var stream = await client.CallAsync(FaultCluster.Generate, new ReadOnlySequence<byte>("soak"u8.ToArray()), options);
            var received = 0;
            while (await stream.MoveNextAsync())
            {
                received++;
                count();
            }

            // The prompt, then the tokens: a stream cut short without an error would be a silent loss.
            if (received != tokens + 1)
            {
                throw new InvalidOperationException($"the stream ended normally after {received} of {tokens + 1} messages");
            }
        });

    private static async Task<CallOutcome> MeasureAsync(bool stream, TimeSpan timeout, Func<Action, Task> call)
    {
        var started = Stopwatch.GetTimestamp();
        var messages = 0;
        var work = call(() => Interlocked.Increment(ref messages));
        try
        {
            await work.WaitAsync(timeout + HangAfter);
            return new CallOutcome(stream, started, Stopwatch.GetElapsedTime(started), messages, null, null, Hung: false);
        }
        catch (TimeoutException) when (!work.IsCompleted)
        {
            // Observe it whenever it does end, so that its exception is not left unobserved.
            _ = work.ContinueWith(static t => t.Exception, TaskScheduler.Default);
            return new CallOutcome(stream, started, Stopwatch.GetElapsedTime(started), messages, null, null, Hung: true);
        }
        catch (PlexusException e)
        {
            return new CallOutcome(stream, started, Stopwatch.GetElapsedTime(started), messages, e, null, Hung: false);
        }
#pragma warning disable CA1031 // Any other exception is recorded as what it is: an untyped failure the test reports.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new CallOutcome(stream, started, Stopwatch.GetElapsedTime(started), messages, null, e, Hung: false);
        }
    }
}
