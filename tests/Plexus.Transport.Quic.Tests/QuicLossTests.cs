using System.Buffers;
using System.Buffers.Binary;
using System.Net;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// The request plane over QUIC through a UDP relay of the tests' own that drops and reorders datagrams, or stops
/// forwarding altogether: QUIC's loss recovery has to deliver everything complete and in order, and a peer that
/// vanishes has to fail the requests in flight with Unavailable within the idle timeout.
/// </summary>
public sealed class QuicLossTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    // Packets of the size a real network carries: over loopback the transport would otherwise send 64 KiB ones, and
    // far fewer of them would meet the relay's losses.
    private static readonly TimeSpan LossBound = TimeSpan.FromSeconds(120);

    [Fact(Timeout = 180_000)]
    public async Task A_64_MiB_payload_and_its_echo_cross_a_relay_dropping_and_reordering_five_percent()
    {
        await using var server = await StartServerAsync();
        var echo = QuicEcho.Serve(server);
        await using var relay = Relay(server, drop: 0.05, reorder: 0.05);
        await using var client = QuicTestOptions.Factory(Network()).CreateClient();

        var payload = new byte[64 * 1024 * 1024];
        new Random(11).NextBytes(payload);
        await using var responses = await client.SendAsync(Through(relay), QuicEcho.Request(echo, payload), CancellationToken.None).AsTask().WaitAsync(LossBound);
        Assert.True(await responses.MoveNextAsync().AsTask().WaitAsync(LossBound));
        Assert.True(payload.AsSpan().SequenceEqual(responses.Current.ToArray()), "the echoed payload differs from the one sent");
        Assert.False(await responses.MoveNextAsync().AsTask().WaitAsync(LossBound));
        Assert.True(relay.Dropped > 50 && relay.Reordered > 50, $"the relay should have dropped and reordered datagrams: {relay}");
    }

    [Fact(Timeout = 180_000)]
    public async Task A_10000_message_stream_crosses_the_lossy_relay_complete_and_in_order()
    {
        const int Messages = 10_000;
        await using var server = await StartServerAsync();
        var stream = QuicEcho.Serve(server, "stream", async (request, responses) =>
        {
            var message = new byte[32];
            for (var i = 0; i < Messages; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(message, i);
                await responses.WriteMessageAsync(message, request.RequestAborted);
            }
        });
        await using var relay = Relay(server, drop: 0.05, reorder: 0.05);
        await using var client = QuicTestOptions.Factory(Network()).CreateClient();

        await using var responses = await client.SendAsync(Through(relay), QuicEcho.Request(stream, "go"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(LossBound);
        var expected = 0;
        while (await responses.MoveNextAsync().AsTask().WaitAsync(LossBound))
        {
            Assert.Equal(32, responses.Current.Length);
            Assert.Equal(expected, BinaryPrimitives.ReadInt32LittleEndian(responses.Current.FirstSpan.Length >= 4 ? responses.Current.FirstSpan : responses.Current.ToArray()));
            expected++;
        }

        Assert.Equal(Messages, expected);
        Assert.True(relay.Dropped > 10, $"the relay should have dropped datagrams: {relay}");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_server_that_vanishes_fails_the_request_in_flight_with_Unavailable_within_the_idle_timeout()
    {
        var options = Network();
        options.IdleTimeout = TimeSpan.FromSeconds(2);
        options.KeepAliveInterval = TimeSpan.FromMilliseconds(500);
        await using var server = QuicTestOptions.Factory(options).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hang = QuicEcho.Serve(server, "hang", async (request, responses) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, request.RequestAborted);
        });
        await using var relay = Relay(server, drop: 0, reorder: 0);
        await using var client = QuicTestOptions.Factory(options).CreateClient();

        var call = QuicEcho.CallAsync(client, Through(relay), QuicEcho.Request(hang, "x"u8.ToArray()));
        await started.Task.WaitAsync(QuicEcho.Bound);
        relay.Blackhole = true;
        var vanished = TimeProvider.System.GetTimestamp();

        var error = await Assert.ThrowsAsync<PlexusException>(() => call);
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        var took = TimeProvider.System.GetElapsedTime(vanished);
        Assert.True(took < TimeSpan.FromSeconds(6), $"the request failed after {took.TotalSeconds:0.0} s; the idle timeout is 2 s");
    }

    private QuicTransportOptions Network()
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.LoopbackMtu = false;
        return options;
    }

    private static UdpRelay Relay(IRequestPlaneServer server, double drop, double reorder) =>
        new(new IPEndPoint(IPAddress.Loopback, ((QuicServer)server).BoundEndPoint!.Port), seed: 3, dropProbability: drop, reorderProbability: reorder);

    private static Uri Through(UdpRelay relay) => new($"quic://127.0.0.1:{relay.EndPoint.Port}");

    private async Task<IRequestPlaneServer> StartServerAsync()
    {
        var server = QuicTestOptions.Factory(Network()).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        return server;
    }
}
