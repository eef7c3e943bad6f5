using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Quic.Tests;

/// <summary>The relay on its own, with plain UDP sockets on both sides.</summary>
public sealed class UdpRelayTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly Socket _target = Bound();
    private readonly Socket _client = Bound();

    public void Dispose()
    {
        _target.Dispose();
        _client.Dispose();
    }

    [Fact(Timeout = 30_000)]
    public async Task Forwards_ClientDatagramsToTheTarget_AndRepliesToTheClient()
    {
        await using var relay = new UdpRelay(TargetEndPoint);

        await _client.SendToAsync("ping"u8.ToArray(), relay.EndPoint);
        var (request, from) = await ReceiveAsync(_target, Patience);
        await _target.SendToAsync("pong"u8.ToArray(), from);
        var (reply, replyFrom) = await ReceiveAsync(_client, Patience);

        Assert.Equal("ping"u8.ToArray(), request);
        Assert.Equal("pong"u8.ToArray(), reply);
        Assert.Equal(relay.EndPoint, replyFrom);
        Assert.Equal(2, relay.Forwarded);
        Assert.Equal(0, relay.Dropped);
    }

    [Fact(Timeout = 30_000)]
    public async Task Replies_GoToTheClientThatSentLast()
    {
        await using var relay = new UdpRelay(TargetEndPoint);
        using var second = Bound();

        await _client.SendToAsync("one"u8.ToArray(), relay.EndPoint);
        var (_, from) = await ReceiveAsync(_target, Patience);
        await second.SendToAsync("two"u8.ToArray(), relay.EndPoint);
        await ReceiveAsync(_target, Patience);
        await _target.SendToAsync("reply"u8.ToArray(), from);

        Assert.Equal("reply"u8.ToArray(), (await ReceiveAsync(second, Patience)).Data);
        Assert.Null(await TryReceiveAsync(_client, Quiet));
    }

    [Fact(Timeout = 30_000)]
    public async Task DropProbabilityOne_DropsEverything_AndCountsIt()
    {
        await using var relay = new UdpRelay(TargetEndPoint, dropProbability: 1);

        for (var i = 0; i < 10; i++)
        {
            await _client.SendToAsync(new[] { (byte)i }, relay.EndPoint);
        }

        await WaitUntilAsync(() => relay.Dropped == 10, relay);
        Assert.Null(await TryReceiveAsync(_target, Quiet));
        Assert.Equal(0, relay.Forwarded);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReorderedDatagram_FollowsTheNextOne()
    {
        await using var relay = new UdpRelay(TargetEndPoint, reorderProbability: 1) { ReorderDelay = TimeSpan.FromSeconds(10) };

        await _client.SendToAsync("first"u8.ToArray(), relay.EndPoint);
        await WaitUntilAsync(() => relay.Reordered == 1, relay);
        await _client.SendToAsync("second"u8.ToArray(), relay.EndPoint);

        Assert.Equal("second"u8.ToArray(), (await ReceiveAsync(_target, Patience)).Data);
        Assert.Equal("first"u8.ToArray(), (await ReceiveAsync(_target, Patience)).Data);
        Assert.Equal(2, relay.Forwarded);
    }

    [Fact(Timeout = 30_000)]
    public async Task ReorderedDatagram_WithoutASuccessor_IsSentAfterTheDelay()
    {
        await using var relay = new UdpRelay(TargetEndPoint, reorderProbability: 1) { ReorderDelay = TimeSpan.FromMilliseconds(50) };

        await _client.SendToAsync("alone"u8.ToArray(), relay.EndPoint);

        Assert.Equal("alone"u8.ToArray(), (await ReceiveAsync(_target, Patience)).Data);
        Assert.Equal(1, relay.Reordered);
        Assert.Equal(1, relay.Forwarded);
    }

    [Fact(Timeout = 30_000)]
    public async Task Blackhole_StopsForwarding_UntilItIsTurnedOff()
    {
        await using var relay = new UdpRelay(TargetEndPoint) { Blackhole = true };

        await _client.SendToAsync("lost"u8.ToArray(), relay.EndPoint);
        await WaitUntilAsync(() => relay.Blackholed == 1, relay);
        Assert.Null(await TryReceiveAsync(_target, Quiet));

        relay.Blackhole = false;
        await _client.SendToAsync("back"u8.ToArray(), relay.EndPoint);
        Assert.Equal("back"u8.ToArray(), (await ReceiveAsync(_target, Patience)).Data);
    }

    [Fact(Timeout = 60_000)]
    public async Task TheSameSeed_DropsTheSameDatagrams()
    {
        var first = await DeliveredAsync(seed: 7);
        var second = await DeliveredAsync(seed: 7);
        var other = await DeliveredAsync(seed: 8);

        Assert.InRange(first.Count, 30, 170);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    private IPEndPoint TargetEndPoint => (IPEndPoint)_target.LocalEndPoint!;

    /// <summary>Sends 200 numbered datagrams through a relay dropping half and returns the numbers that arrived.</summary>
    private async Task<List<int>> DeliveredAsync(int seed)
    {
        await using var relay = new UdpRelay(TargetEndPoint, seed, dropProbability: 0.5);
        for (var i = 0; i < 200; i++)
        {
            await _client.SendToAsync(BitConverter.GetBytes(i), relay.EndPoint);
        }

        await WaitUntilAsync(() => relay.Forwarded + relay.Dropped == 200, relay);
        var delivered = new List<int>();
        while (await TryReceiveAsync(_target, Quiet) is { } data)
        {
            delivered.Add(BitConverter.ToInt32(data));
        }

        Assert.Equal(relay.Forwarded, delivered.Count);
        return delivered;
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static async Task<(byte[] Data, IPEndPoint From)> ReceiveAsync(Socket socket, TimeSpan timeout)
    {
        var buffer = new byte[65_535];
        using var limit = new CancellationTokenSource(timeout);
        var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), limit.Token);
        return (buffer[..received.ReceivedBytes], (IPEndPoint)received.RemoteEndPoint);
    }

    private static async Task<byte[]?> TryReceiveAsync(Socket socket, TimeSpan timeout)
    {
        try
        {
            return (await ReceiveAsync(socket, timeout)).Data;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, UdpRelay relay)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out: {relay}");
            await Task.Delay(10);
        }
    }
}
