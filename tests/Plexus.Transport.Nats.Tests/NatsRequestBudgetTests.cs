using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NATS.Client.Core;
using Xunit.Abstractions;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// The server-wide budget of request bytes (<see cref="NatsTransportOptions.MaxRequestBytesInFlight"/>): each request
/// costs its payload plus 1 KiB from its head until its handler ends, and a request that would go over is refused as
/// <c>Overloaded</c> from its head, before any of its payload is buffered. So a flood of large uploads costs the node
/// the budget, not the flood. Measures memory, so it runs alone.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class NatsRequestBudgetTests(ITestOutputHelper output)
{
    private const int MiB = 1024 * 1024;

    // What each request costs beyond its payload (NatsServer.RequestOverheadBytes).
    private const long Overhead = 1024;

    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);
    private static readonly IReadOnlyDictionary<string, string> HoldHeaders = new Dictionary<string, string> { [HoldingHandler.HoldHeader] = "yes" };

    [Fact(Timeout = 60_000)]
    public async Task FloodOfLargeUploads_AdmitsWhatTheBudgetHolds_RefusesTheRestAtOnce_AndAdmitsAgainOnceReleased()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        var options = new NatsTransportOptions
        {
            Url = nats.Url.ToString(),
            MaxPayloadBytes = 8 * MiB,
            MaxRequestBytesInFlight = 32 * MiB,
        };

        // The server's own pool, counted: payload buffers come from it, so what it has out is what requests hold. It
        // keeps nothing over 1 MiB (as the transport's default pool): a 4 MiB payload is allocated when rented and left
        // to the collector when returned, so live memory shows exactly the payloads held.
        var pool = new CountingArrayPool(ArrayPool<byte>.Create(maxArrayLength: MiB, maxArraysPerBucket: 16));
        var factory = new NatsTransportFactory(options, pool);
        await using var server = (NatsServer)factory.CreateServer();
        var endpoint = new EndpointAddress("tests", "budget", "upload");
        var instance = InstanceId.NewId();
        var handler = new HoldingHandler();
        server.Register(endpoint, instance, handler);
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step);
        var clients = Enumerable.Range(0, 4).Select(_ => factory.CreateClient()).ToArray();
        try
        {
            // One payload for every upload (a request's payload is only read). A first flood whose requests are not held
            // warms up what the process keeps anyway, whatever the budget: the NATS client library's buffers, which it
            // rents from the shared array pool (over 100 MiB of 1 and 2 MiB arrays for this flood, counted with the
            // pool's event source) and which that pool then keeps, and the thread pool's threads.
            var payload = new byte[4 * MiB];
            new Random(7).NextBytes(payload);
            var warmUp = await Task.WhenAll(Enumerable.Range(0, 64)
                .Select(i => Task.Run(() => OutcomeAsync(clients[i % clients.Length], server.Address, Request(endpoint, instance, payload))))).WaitAsync(Step);
            Assert.All(warmUp, outcome => Assert.True(outcome.Error is null || outcome.Error.Code == PlexusErrorCode.Overloaded, outcome.Error?.Message));
            Assert.Contains(warmUp, outcome => outcome.Error is null);
            await WaitUntilAsync(() => server.RequestBytesInFlight == 0, "The warm-up calls left bytes in the budget.");
            Assert.Equal(0, pool.Outstanding);
            var baseline = GC.GetTotalMemory(forceFullCollection: true);

            // Polled on its own thread, as often as it can, for the whole flood.
            long worstHeld = 0;
            using var stopPolling = new CancellationTokenSource();
            var poller = new Thread(() =>
            {
                while (!stopPolling.IsCancellationRequested)
                {
                    var held = server.RequestBytesInFlight;
                    if (held > worstHeld)
                    {
                        Volatile.Write(ref worstHeld, held);
                    }

                    Thread.Yield();
                }
            })
            { IsBackground = true, Name = "budget poller" };
            poller.Start();

            // 64 uploads of 4 MiB at once, each in four 1 MiB NATS messages (nats-server's max_payload).
            var flood = Stopwatch.StartNew();
            var calls = Enumerable.Range(0, 64)
                .Select(i => Task.Run(() => OutcomeAsync(clients[i % clients.Length], server.Address, Held(endpoint, instance, payload))))
                .ToArray();

            // 32 MiB holds 7 requests of 4 MiB + 1 KiB, not 8: the other 57 are refused while the 7 are still held.
            await WaitUntilAsync(() => calls.Count(call => call.IsCompleted) == 57 && handler.Running == 7, "The flood did not settle at 7 held and 57 refused.");
            var refusedIn = flood.Elapsed;
            var held = server.RequestBytesInFlight;
            var growth = GC.GetTotalMemory(forceFullCollection: true) - baseline;
            stopPolling.Cancel();
            poller.Join();
            output.WriteLine(
                $"57 refused in {refusedIn.TotalMilliseconds:F0} ms; budget held {held} (worst {worstHeld}); pool out {pool.Outstanding} (peak {pool.Peak}); live memory +{growth / MiB} MiB");

            foreach (var call in calls.Where(call => call.IsCompleted))
            {
                var error = Assert.IsType<PlexusException>((await call).Error);
                Assert.Equal(PlexusErrorCode.Overloaded, error.Code);
                Assert.True(error.BeforeFirstByte, "An Overloaded refusal must leave the caller free to try elsewhere.");
                Assert.Contains("MaxRequestBytesInFlight", error.Message, StringComparison.Ordinal);
            }

            Assert.Equal(7, handler.MaxRunning);
            Assert.Equal(7, handler.Started);
            Assert.Equal(7 * (4 * MiB + Overhead), held);
            Assert.InRange(worstHeld, 7 * (4 * MiB + Overhead), options.MaxRequestBytesInFlight);

            // Memory: the 7 held payloads are all the pool has out, and the process grew by them and a margin. Without
            // the budget, the 64 payloads alone would be 256 MiB.
            Assert.Equal(7L * 4 * MiB, pool.Outstanding);
            Assert.InRange(pool.Peak, 7L * 4 * MiB, options.MaxRequestBytesInFlight);
            Assert.True(growth < options.MaxRequestBytesInFlight + (32 * MiB), $"Live memory grew by {growth / MiB} MiB with a budget of {options.MaxRequestBytesInFlight / MiB} MiB.");

            // Released: the 7 finish with their whole payload, and the budget and the pool are empty again.
            handler.Release.SetResult();
            foreach (var call in calls)
            {
                var outcome = await call.WaitAsync(Step);
                Assert.True(outcome.Error is null || outcome.Error.Code == PlexusErrorCode.Overloaded, outcome.Error?.Message);
            }

            Assert.Equal(7, calls.Count(call => call.Result.Reply == (4 * MiB).ToString(CultureInfo.InvariantCulture)));
            await WaitUntilAsync(() => server.RequestBytesInFlight == 0 && server.InFlight == 0, "The budget was not given back after the requests ended.");
            Assert.Equal(0, pool.Outstanding);

            // And new uploads are admitted again.
            var again = await Task.WhenAll(Enumerable.Range(0, 7).Select(i => CallAsync(clients[i % clients.Length], server.Address, Request(endpoint, instance, payload)))).WaitAsync(Step);
            Assert.All(again, reply => Assert.Equal((4 * MiB).ToString(CultureInfo.InvariantCulture), reply));
            await WaitUntilAsync(() => server.RequestBytesInFlight == 0, "The budget was not given back after the second round.");
        }
        finally
        {
            handler.Release.TrySetResult();
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task EachRequestCostsItsPayloadPlusOneKiB_PlainCallersAreRefusedWith429()
    {
        await using var nats = await NatsServerProcess.StartAsync();

        // The smallest budget the options allow for 1 MiB payloads.
        var options = new NatsTransportOptions { Url = nats.Url.ToString(), MaxPayloadBytes = MiB, MaxRequestBytesInFlight = MiB + 1 };
        await using var harness = await TransportHarness.StartAsync(options);
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests", "budget", "cost");
        var instance = InstanceId.NewId();
        var handler = new HoldingHandler();
        server.Register(endpoint, instance, handler);

        // One held Plexus request of 500,000 bytes costs exactly 501,024.
        var held = Task.Run(() => CallAsync(harness.Client, server.Address, Held(endpoint, instance, new byte[500_000])));
        await WaitUntilAsync(() => handler.Running == 1, "The held request never reached its handler.");
        Assert.Equal(500_000 + Overhead, server.RequestBytesInFlight);

        // A plain NATS request that fits only without its 1 KiB is refused from its head: 429 in the services API's terms.
        var room = options.MaxRequestBytesInFlight - server.RequestBytesInFlight;
        await using var connection = new NatsConnection(new NatsOpts { Url = nats.Url.ToString() });
        var subject = NatsAddress.RequestSubject(options.SubjectPrefix, endpoint, instance, server.ServerId);
        var refused = await connection.RequestAsync<byte[], byte[]>(subject, new byte[room - Overhead + 1]).AsTask().WaitAsync(Step);
        Assert.NotNull(refused.Headers);
        Assert.Equal("429", refused.Headers[NatsServiceErrors.CodeHeader].ToString());
        Assert.Equal(((int)PlexusErrorCode.Overloaded).ToString(CultureInfo.InvariantCulture), refused.Headers["Plexus-Error-Code"].ToString());
        Assert.Contains("MaxRequestBytesInFlight", refused.Headers[NatsServiceErrors.ErrorHeader].ToString(), StringComparison.Ordinal);
        Assert.Equal(1, handler.Started);

        // One byte less fills the budget exactly, and is served (the handler holds only requests that ask for it).
        var admitted = await connection.RequestAsync<byte[], byte[]>(subject, new byte[room - Overhead]).AsTask().WaitAsync(Step);
        Assert.Null(admitted.Headers);
        Assert.Equal((room - Overhead).ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(admitted.Data ?? []));

        handler.Release.SetResult();
        Assert.Equal("500000", await held.WaitAsync(Step));
        await WaitUntilAsync(() => server.RequestBytesInFlight == 0, "The budget was not given back.");
    }

    private static OutgoingRequest Request(EndpointAddress endpoint, InstanceId instance, byte[] payload) => TransportHarness.Request(endpoint, instance, payload);

    // A request the handler holds until released.
    private static OutgoingRequest Held(EndpointAddress endpoint, InstanceId instance, byte[] payload) =>
        new(endpoint, instance, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(payload), HoldHeaders, null);

    // One call; its one reply message as text.
    private static async Task<string> CallAsync(IRequestPlaneClient client, Uri address, OutgoingRequest request)
    {
        var stream = await client.SendAsync(address, request, CancellationToken.None).AsTask().WaitAsync(Step);
        await using (stream)
        {
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
            var reply = Encoding.UTF8.GetString(stream.Current.ToArray());
            Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
            return reply;
        }
    }

    private static async Task<Outcome> OutcomeAsync(IRequestPlaneClient client, Uri address, OutgoingRequest request)
    {
        try
        {
            return new Outcome(await CallAsync(client, address, request), null);
        }
        catch (PlexusException error)
        {
            return new Outcome(null, error);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var giveUp = DateTime.UtcNow + Step;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, failure);
            await Task.Delay(5);
        }
    }

    private sealed record Outcome(string? Reply, PlexusException? Error);

    // Holds each request that carries the hold header until released, counting those it holds; answers with the
    // payload's length.
    private sealed class HoldingHandler : IEndpointHandler
    {
        public const string HoldHeader = "hold";

        private int _running;
        private int _maxRunning;
        private int _started;

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Held requests whose handler runs now, the most at once, and all there were.
        public int Running => Volatile.Read(ref _running);

        public int MaxRunning => Volatile.Read(ref _maxRunning);

        public int Started => Volatile.Read(ref _started);

        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            var length = request.Payload.Length;
            if (request.Headers.ContainsKey(HoldHeader))
            {
                Interlocked.Increment(ref _started);
                var running = Interlocked.Increment(ref _running);
                int max;
                while (running > (max = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, running, max) != max)
                {
                }

                try
                {
                    await Release.Task.WaitAsync(request.RequestAborted);
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                }
            }

            await responses.WriteMessageAsync(Encoding.UTF8.GetBytes(length.ToString(CultureInfo.InvariantCulture)), request.RequestAborted);
        }
    }

    // An array pool that counts the bytes it has out, and the most it ever had.
    private sealed class CountingArrayPool(ArrayPool<byte> inner) : ArrayPool<byte>
    {
        private long _outstanding;
        private long _peak;

        public long Outstanding => Interlocked.Read(ref _outstanding);

        public long Peak => Interlocked.Read(ref _peak);

        public override byte[] Rent(int minimumLength)
        {
            var array = inner.Rent(minimumLength);
            var now = Interlocked.Add(ref _outstanding, array.Length);
            long peak;
            while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
            {
            }

            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            Interlocked.Add(ref _outstanding, -array.Length);
            inner.Return(array, clearArray);
        }
    }
}
