using Xunit.Abstractions;
using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// 10,000 random and mutated byte sequences from raw sockets: the server must not crash, must not grow its memory
/// without bound, and must not disturb a healthy client running beside them. Deterministic: one fixed seed.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Sequences = 10_000;
    private const int Workers = 32;
    private const int Seed = 0x5EED_7C9;
    private const long MiB = 1024 * 1024;

    [Fact(Timeout = 120_000)]
    public async Task TenThousandHostileSequences_NeitherCrashNorGrowTheServer_NorDisturbAHealthyClient()
    {
        var options = TestOptions.Loopback();
        options.HandshakeTimeout = TimeSpan.FromSeconds(1);
        var factory = new TcpTransportFactory(options, TestCodecs.TwoPart());
        await using var server = (TcpServer)factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = Echo.Serve(server);
        var corpus = BuildCorpus(echo);

        await using var healthy = factory.CreateClient();
        Assert.Single(await Echo.CallAsync(healthy, server.Address, Echo.Request(echo, [0])));
        var baselineHeap = GC.GetTotalMemory(forceFullCollection: true);
        var baselineWorkingSet = Environment.WorkingSet;
        long peakWorkingSet = baselineWorkingSet;

        using var stop = new CancellationTokenSource();
        var healthyCalls = 0;
        var healthyLoop = Task.Run(async () =>
        {
            var random = new Random(Seed + 1);
            while (!stop.IsCancellationRequested)
            {
                var payload = new byte[random.Next(0, 70_000)];
                random.NextBytes(payload);
                var reply = Assert.Single(await Echo.CallAsync(healthy, server.Address, Echo.Request(echo, payload)));
                Assert.Equal(payload, reply);
                healthyCalls++;
                peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
            }
        });

        var next = -1;
        var reachedFrames = 0;
        var workers = new Task[Workers];
        for (var w = 0; w < Workers; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < Sequences)
                {
                    // Each sequence has its own seed, so any one of them can be replayed alone.
                    var bytes = Mutate(corpus, new Random(Seed ^ index));
                    var reply = await SendAsync(server.BoundEndPoint!, bytes);
                    if (reply.Length >= Wire.HandshakePrefixLength && reply[5] == Wire.Accept && bytes.Length > corpus[0].Length)
                    {
                        // Accepted, with more bytes behind the hello: the mutation reached the frame parser.
                        Interlocked.Increment(ref reachedFrames);
                    }
                }
            });
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(100));
        await stop.CancelAsync();
        await healthyLoop.WaitAsync(Echo.Bound);

        output.WriteLine($"{Sequences} sequences; {reachedFrames} reached the frame parser; {healthyCalls} healthy calls completed beside them.");

        // The server still serves, the healthy connection never broke, and memory came back down.
        Assert.True(reachedFrames > Sequences / 20, $"Only {reachedFrames} sequences got past the handshake to the frame parser; the corpus is not exercising the frame parser.");
        Assert.True(healthyCalls > 10, $"The healthy client completed only {healthyCalls} calls during the fuzzing.");
        Assert.Equal(HealthStatus.Healthy, server.Health.Status);
        await using (var fresh = factory.CreateClient())
        {
            Assert.Equal([42], Assert.Single(await Echo.CallAsync(fresh, server.Address, Echo.Request(echo, [42]))));
        }

        var giveUp = DateTime.UtcNow + Echo.Bound;
        while (server.SessionCount > 1 && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(20);
        }

        Assert.True(server.SessionCount <= 1, $"{server.SessionCount} connections are still open after the fuzzers left.");
        var heapGrowth = GC.GetTotalMemory(forceFullCollection: true) - baselineHeap;
        output.WriteLine($"Managed heap growth {heapGrowth / 1024} KiB; working set peak growth {(peakWorkingSet - baselineWorkingSet) / MiB} MiB.");
        Assert.True(heapGrowth < 64 * MiB, $"The managed heap grew by {heapGrowth / MiB} MiB over the fuzzing.");
        Assert.True(peakWorkingSet - baselineWorkingSet < 512 * MiB, $"The working set grew by {(peakWorkingSet - baselineWorkingSet) / MiB} MiB during the fuzzing.");
    }

    private static List<byte[]> BuildCorpus((EndpointAddress Endpoint, InstanceId Instance) echo)
    {
        var hello = RawWire.Hello();
        var headers = new Dictionary<string, string> { ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
        var request = new OutgoingRequest(echo.Endpoint, echo.Instance, "fuzz", new ReadOnlySequence<byte>(new byte[300]), headers, DateTimeOffset.UtcNow.AddMinutes(5));
        var open = RawWire.RequestFrame(1, request with { Payload = new ReadOnlySequence<byte>(new byte[100]) }, endStream: false, declaredLength: 300);
        var data = RawWire.Frame(DataHeader(1, Wire.EndStream), new byte[200]);
        var credit = RawWire.SimpleFrame(FrameType.Credit, 0, 0, 0, 0, 1, 0);
        var ping = RawWire.SimpleFrame(FrameType.Ping, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
        var cancel = RawWire.SimpleFrame(FrameType.Cancel, 0, 1, (byte)PlexusErrorCode.Cancelled);
        return
        [
            hello,
            Concat(hello, RawWire.RequestFrame(1, request)),
            Concat(hello, open, data),
            Concat(hello, open, cancel, data),
            Concat(hello, ping, credit, RawWire.RequestFrame(1, request), RawWire.RequestFrame(2, request)),
            Concat(hello, RawWire.RequestFrame(1, request with { Endpoint = new EndpointAddress("no", "such", "endpoint") })),
        ];
    }

    private static byte[] DataHeader(uint stream, byte flags)
    {
        var header = new byte[Wire.CommonHeaderLength];
        header[0] = (byte)FrameType.Data;
        header[1] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(2), stream);
        return header;
    }

    private static byte[] Mutate(List<byte[]> corpus, Random random)
    {
        var kind = random.Next(10);
        if (kind == 0)
        {
            // Pure noise.
            var noise = new byte[random.Next(1, 4096)];
            random.NextBytes(noise);
            return noise;
        }

        var bytes = corpus[random.Next(corpus.Count)].ToArray();

        // Most mutations spare the hello, so that they reach the frame parser.
        var from = random.Next(4) == 0 || bytes.Length <= corpus[0].Length ? 0 : corpus[0].Length;
        switch (kind)
        {
            case 1 or 2 or 3:
                var flips = random.Next(1, 9);
                for (var i = 0; i < flips; i++)
                {
                    bytes[random.Next(from, bytes.Length)] ^= (byte)random.Next(1, 256);
                }

                return bytes;
            case 4:
                return bytes.AsSpan(0, random.Next(0, bytes.Length)).ToArray();
            case 5 or 6:
                // A huge length where a length might be.
                var at = random.Next(from, Math.Max(from + 1, bytes.Length - 4));
                uint[] huge = [0xFFFF_FFFF, 0x7FFF_FFFF, 0x1000_0000, 0x0100_0000, (uint)random.Next()];
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), huge[random.Next(huge.Length)]);
                return bytes;
            case 7:
                var garbage = new byte[random.Next(1, 512)];
                random.NextBytes(garbage);
                return Concat(bytes, garbage);
            case 8:
                // A slice of a valid stream repeated, so frames arrive out of order or twice.
                var start = random.Next(from, bytes.Length);
                return Concat(bytes, bytes.AsSpan(start).ToArray(), bytes.AsSpan(start).ToArray());
            default:
                var insertAt = random.Next(from, bytes.Length);
                var inserted = new byte[random.Next(1, 32)];
                random.NextBytes(inserted);
                return Concat(bytes.AsSpan(0, insertAt).ToArray(), inserted, bytes.AsSpan(insertAt).ToArray());
        }
    }

    private static async Task<byte[]> SendAsync(IPEndPoint server, byte[] bytes)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        try
        {
            await socket.SendAsync(bytes);

            // Read what the server answers until it closes the connection or goes quiet (the bytes were valid so far);
            // then leave. Closing counts as the peer going away, which the server must also survive.
            return await ReadUntilQuietAsync(socket);
        }
        catch (SocketException)
        {
            // The server closed on us mid-send: that is one of the allowed outcomes.
            return [];
        }
    }

    private static async Task<byte[]> ReadUntilQuietAsync(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(60));
            try
            {
                var n = await socket.ReceiveAsync(buffer, quiet.Token);
                if (n == 0)
                {
                    return [.. received];
                }

                received.AddRange(buffer.AsSpan(0, n));
            }
            catch (OperationCanceledException)
            {
                return [.. received];
            }
        }
    }

    private static byte[] Concat(params byte[][] parts)
    {
        var length = 0;
        foreach (var part in parts)
        {
            length += part.Length;
        }

        var result = new byte[length];
        var at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, at);
            at += part.Length;
        }

        return result;
    }
}
