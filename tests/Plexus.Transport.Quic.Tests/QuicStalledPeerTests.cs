using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// A client that sends requests and never reads their responses: what the server owes it stays within
/// ConnectionSendBufferBytes across all its streams, the server takes no new requests from it while it owes that much,
/// closes it after StalledPeerTimeout with a logged reason, and its memory comes back. A healthy client beside it is
/// served throughout. A client that reads slowly but steadily is never taken for a stalled one.
/// </summary>
[Collection(QuicMeasuresMemoryCollection.Name)]
public sealed class QuicStalledPeerTests(TestCertificates certificates, ITestOutputHelper output) : IClassFixture<TestCertificates>
{
    private const long MiB = 1024 * 1024;
    private const int MessageBytes = 4096;

    // A handler that was already running when the budget filled adds at most the message it flushes next (and its
    // DATA frame header) before its flush waits.
    private const int PerRunningHandler = MessageBytes + 64;

    private static readonly TimeSpan StalledPeerTimeout = TimeSpan.FromSeconds(3);

    [Fact(Timeout = 120_000)]
    public async Task ClientThatOpensManyStreamsAndNeverReads_OwesAtMostTheBudget_IsClosedAfterTheTimeout_AndOthersAreServed()
    {
        const int FirstStreams = 200;
        const int LaterStreams = 50;
        var log = new QuicLogCapture();
        var options = QuicTestOptions.Loopback(certificates);
        options.ConnectionSendBufferBytes = (int)(4 * MiB);
        options.StalledPeerTimeout = StalledPeerTimeout;
        var factory = QuicTestOptions.Factory(options, log);
        await using var server = (QuicServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = QuicEcho.Serve(server);
        var handlersStarted = 0;
        var laterStarted = 0;
        var endless = QuicEcho.Serve(server, "endless", async (request, responses) =>
        {
            Interlocked.Increment(ref handlersStarted);
            var index = BitConverter.ToUInt16(request.Payload.ToArray());
            if (index >= FirstStreams)
            {
                Interlocked.Increment(ref laterStarted);
            }

            for (var i = 0; ; i++)
            {
                responses.GetSpan(MessageBytes)[..MessageBytes].Fill((byte)i);
                responses.Advance(MessageBytes);
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
            }
        });
        await using var healthy = factory.CreateClient();
        var payload = new byte[1000];
        Assert.Equal(payload, Assert.Single(await QuicEcho.CallAsync(healthy, server.Address, QuicEcho.Request(echo, payload))));
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        // The misbehaving peer: a client of this transport that sends requests to an endless stream and never reads a
        // response. Its connection window (1 MiB) is used up at once, so the server's streams hold what they write.
        // Without the connection's budget they would hold up to SendBufferBytes (256 KiB) each: 50 MiB here.
        var greedyOptions = QuicTestOptions.Loopback(certificates);
        greedyOptions.ConnectionWindowBytes = greedyOptions.StreamWindowBytes;
        var greedy = QuicTestOptions.Factory(greedyOptions).CreateClient();
        var unread = new List<IResponseStream>();
        var started = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < FirstStreams; i++)
            {
                unread.Add(await greedy.SendAsync(server.Address, QuicEcho.Request(endless, BitConverter.GetBytes((ushort)i)), CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound));
            }

            // Once the connection owes its budget it stays full (the peer acknowledges only what it is sent, at most
            // its 1 MiB window, less than half the budget): requests opened from then on are not run.
            while (server.FullSessionCount == 0 && started.Elapsed < QuicEcho.Bound)
            {
                await Task.Delay(5);
            }

            Assert.Equal(1, server.FullSessionCount);

            var runningWhenFull = Volatile.Read(ref handlersStarted);
            var fullAt = started.Elapsed;
            for (var i = 0; i < LaterStreams; i++)
            {
                unread.Add(await greedy.SendAsync(server.Address, QuicEcho.Request(endless, BitConverter.GetBytes((ushort)(FirstStreams + i))), CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound));
            }

            long worstOwed = 0;
            long worstGrowth = 0;
            var calls = 0;
            var nextMeasure = TimeSpan.Zero;
            while (server.SessionCount > 1 && started.Elapsed < TimeSpan.FromSeconds(60))
            {
                worstOwed = Math.Max(worstOwed, server.OwedBytes);
                Assert.Equal(payload, Assert.Single(await QuicEcho.CallAsync(healthy, server.Address, QuicEcho.Request(echo, payload))));
                calls++;
                if (started.Elapsed >= nextMeasure)
                {
                    worstGrowth = Math.Max(worstGrowth, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                    nextMeasure = started.Elapsed + TimeSpan.FromMilliseconds(500);
                }

                await Task.Delay(5);
            }

            var handlers = Volatile.Read(ref handlersStarted);
            output.WriteLine(
                $"Closed after {started.Elapsed.TotalSeconds:F1} s; worst owed {worstOwed / 1024} KiB (budget {options.ConnectionSendBufferBytes / 1024} KiB); " +
                $"{runningWhenFull} handlers ran when the budget filled, {handlers} in all ({Volatile.Read(ref laterStarted)} of the later ones), of {FirstStreams + LaterStreams} requests; worst heap growth {worstGrowth / MiB} MiB; {calls} healthy calls.");

            // Bounded by the budget across all streams, not by a send buffer per stream.
            Assert.True(worstOwed >= options.ConnectionSendBufferBytes / 2, $"The server owed the peer at most {worstOwed} bytes; the test did not reach the budget.");
            var bound = options.ConnectionSendBufferBytes + (handlers * (long)PerRunningHandler);
            Assert.True(worstOwed <= bound, $"The server owed the peer {worstOwed} bytes; the bound is {bound} (the budget and one message per running handler).");

            // No request opened once the peer owed the budget ran.
            Assert.Equal(0, Volatile.Read(ref laterStarted));

            // Closed after the timeout, with the reason logged; the other client was served meanwhile.
            Assert.Equal(1, server.SessionCount);
            var line = await log.WaitForAsync("QuicStalledPeer", QuicEcho.Bound);
            output.WriteLine($"Full after {fullAt.TotalSeconds:F1} s. {line}");
            Assert.Contains("Plexus:Transports:Quic:StalledPeerTimeout", line, StringComparison.Ordinal);
            var stalled = TimeSpan.FromMilliseconds(long.Parse(Regex.Match(line, @"acknowledged nothing for (\d+) ms").Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.True(stalled >= StalledPeerTimeout && started.Elapsed >= StalledPeerTimeout, $"The peer was closed after {started.Elapsed}, {stalled} without progress: before the timeout.");
            Assert.True(calls >= 3, $"Only {calls} calls of the healthy client were answered while the peer did not read.");
            Assert.True(worstGrowth < 64 * MiB, $"Live memory grew by {worstGrowth / MiB} MiB while the peer did not read.");

            // The peer learns why: its requests fail with Unavailable, naming the stall.
            var failure = await ReadUntilFailureAsync(unread[0]);
            Assert.Equal(PlexusErrorCode.Unavailable, failure.Code);
            Assert.Contains("read none of what it was sent", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var stream in unread)
            {
                await stream.DisposeAsync();
            }

            await greedy.DisposeAsync();
        }

        // Nothing of the closed connection stays: nothing owed (the healthy client's last answer is acknowledged a
        // moment after it read it), the memory back, the server still serving.
        var settle = Stopwatch.StartNew();
        while (server.OwedBytes > 0 && settle.Elapsed < QuicEcho.Bound)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, server.OwedBytes);
        Assert.Equal(payload, Assert.Single(await QuicEcho.CallAsync(healthy, server.Address, QuicEcho.Request(echo, payload))));
        var left = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        var giveUp = Stopwatch.StartNew();
        while (left >= 32 * MiB && giveUp.Elapsed < QuicEcho.Bound)
        {
            await Task.Delay(200);
            left = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        }

        Assert.True(left < 32 * MiB, $"{left / MiB} MiB of live memory stayed after the peer went.");
    }

    [Fact(Timeout = 120_000)]
    public async Task ClientThatReadsSlowly_IsHeldToTheBudget_ButNotClosed()
    {
        const int Streams = 8;

        // 4 MiB in all at 512 KiB/s: eight seconds, longer than the timeout. A stream's reader returns credit once it
        // has read half its 64 KiB window, every half second at its 64 KiB/s, and only then can the server send (and
        // the client acknowledge) more of that stream: the timeout is ten of those steps, with room for a slow start.
        const int Messages = 128;
        const long BytesPerSecond = 512 * 1024;
        var log = new QuicLogCapture();
        var serverOptions = QuicTestOptions.Loopback(certificates);
        serverOptions.SendBufferBytes = 16 * 1024;
        serverOptions.ConnectionSendBufferBytes = 64 * 1024;
        serverOptions.StalledPeerTimeout = TimeSpan.FromSeconds(5);
        await using var server = (QuicServer)QuicTestOptions.Factory(serverOptions, log).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var finite = QuicEcho.Serve(server, "finite", async (request, responses) =>
        {
            for (var i = 0; i < Messages; i++)
            {
                responses.GetSpan(MessageBytes)[..MessageBytes].Fill((byte)i);
                responses.Advance(MessageBytes);
                responses.EndMessage();
                await responses.FlushAsync(request.RequestAborted);
            }
        });

        // Small stream windows, so that what the server has to send waits for the readers rather than in the client's
        // buffers; room on the connection for every stream's window.
        var clientOptions = QuicTestOptions.Loopback(certificates);
        clientOptions.MaxFrameHeaderBytes = 1024;
        clientOptions.MaxFrameBodyBytes = 16 * 1024;
        clientOptions.StreamWindowBytes = 64 * 1024;
        clientOptions.ConnectionWindowBytes = Streams * 64 * 1024;
        await using var client = QuicTestOptions.Factory(clientOptions).CreateClient();

        var streams = new List<IResponseStream>();
        for (var i = 0; i < Streams; i++)
        {
            streams.Add(await client.SendAsync(server.Address, QuicEcho.Request(finite, [1]), CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound));
        }

        // Each stream read by its own reader, no faster than its share of the rate: a reader that waited on one stream
        // while the others held the connection's budget would stall the connection itself.
        var started = Stopwatch.StartNew();
        long received = 0;
        var readers = new List<Task>();
        foreach (var stream in streams)
        {
            readers.Add(Task.Run(async () =>
            {
                await using (stream)
                {
                    long read = 0;
                    while (await stream.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound))
                    {
                        Assert.Equal(MessageBytes, stream.Current.Length);
                        read += MessageBytes;
                        Interlocked.Add(ref received, MessageBytes);
                        var ahead = TimeSpan.FromSeconds((double)read * Streams / BytesPerSecond) - started.Elapsed;
                        if (ahead > TimeSpan.Zero)
                        {
                            await Task.Delay(ahead);
                        }
                    }
                }
            }));
        }

        long worstOwed = 0;
        var wasFull = false;
        var reading = Task.WhenAll(readers);
        while (!reading.IsCompleted && started.Elapsed < TimeSpan.FromSeconds(60))
        {
            wasFull |= server.FullSessionCount > 0;
            worstOwed = Math.Max(worstOwed, server.OwedBytes);
            await Task.Delay(5);
        }

        await reading.WaitAsync(QuicEcho.Bound);
        output.WriteLine($"Read {received / 1024} KiB in {started.Elapsed.TotalSeconds:F1} s; worst owed {worstOwed / 1024} KiB; full at times: {wasFull}.");
        Assert.Equal((long)Streams * Messages * MessageBytes, received);
        Assert.True(started.Elapsed > serverOptions.StalledPeerTimeout, $"The client read everything in {started.Elapsed}, within one timeout; the test did not exercise the deadline.");
        Assert.True(wasFull, $"The connection never owed the client its budget (at most {worstOwed} bytes); the test did not exercise it.");
        Assert.Equal(1, server.SessionCount);
        Assert.DoesNotContain(log.Lines, line => line.Contains("QuicStalledPeer", StringComparison.Ordinal));
    }

    private static async Task<PlexusException> ReadUntilFailureAsync(IResponseStream stream)
    {
        var giveUp = Stopwatch.StartNew();
        while (giveUp.Elapsed < QuicEcho.Bound)
        {
            try
            {
                if (!await stream.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound))
                {
                    break;
                }
            }
            catch (PlexusException failure)
            {
                return failure;
            }
        }

        Assert.Fail("The unread stream of the closed connection ended without an error.");
        return null!;
    }
}
