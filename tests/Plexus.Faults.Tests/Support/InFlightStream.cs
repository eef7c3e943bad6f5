using System.Buffers;
using System.Diagnostics;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// A long <c>generate</c> stream that has delivered its first message and is read on in the background, remembering
/// how it ended and when: the call a fault catches in flight.
/// </summary>
public sealed class InFlightStream
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private long _messages;

    private InFlightStream(IResponseStream stream)
    {
        _reading = ReadAsync(stream);
    }

    /// <summary>Messages received so far.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>How the stream ended: null while it runs or if it ended normally.</summary>
    public Exception? Error { get; private set; }

    /// <summary>When it ended, on <see cref="Stopwatch.GetTimestamp"/>'s clock.</summary>
    public long EndedAt { get; private set; }

    public bool HasEnded => _reading.IsCompleted;

    /// <summary>Opens a stream of many tokens on <paramref name="instance"/> and waits for its first message.</summary>
    public static async Task<InFlightStream> OpenAsync(IPlexusClient client, InstanceId instance)
    {
        var options = new CallOptions(Headers: new Dictionary<string, string> { ["max-tokens"] = "100000" }, Instance: instance);
        var stream = await client.CallAsync(FaultCluster.Generate, new ReadOnlySequence<byte>("in flight"u8.ToArray()), options);
        using var first = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        if (!await stream.MoveNextAsync(first.Token))
        {
            throw new InvalidOperationException("The generate stream ended before its first message.");
        }

        return new InFlightStream(stream);
    }

    /// <summary>Waits until it ends; a stream still running after <paramref name="timeout"/> fails the test.</summary>
    public async Task WaitEndedAsync(TimeSpan timeout)
    {
        try
        {
            await _reading.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"An in-flight stream still runs {timeout.TotalSeconds} s later ({Messages} messages): it hangs.");
        }
    }

    /// <summary>Cancels it (a test done with a stream that is meant to run on) and waits until it has ended.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await WaitEndedAsync(TimeSpan.FromSeconds(30));
    }

    private async Task ReadAsync(IResponseStream stream)
    {
        await Task.Yield();
        try
        {
            await using (stream)
            {
                while (await stream.MoveNextAsync(_stop.Token))
                {
                    Interlocked.Increment(ref _messages);
                }
            }
        }
#pragma warning disable CA1031 // Whatever ends the stream is what the test asserts on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Error = e;
        }
        finally
        {
            EndedAt = Stopwatch.GetTimestamp();
        }
    }
}
