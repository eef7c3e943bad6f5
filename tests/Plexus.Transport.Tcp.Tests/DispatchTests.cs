using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// How the server hands requests to the dispatcher, seen from a raw peer: refusals at the REQUEST head, and
/// StopAcceptingAsync waiting for requests whose payload is still arriving.
/// </summary>
public sealed class DispatchTests
{
    [Fact(Timeout = 60_000)]
    public async Task StopAccepting_WaitsForARequestWhosePayloadIsStillArriving_ThenItIsServed()
    {
        await using var server = await StartAsync();
        var echo = Echo.Serve(server);
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!);

        // Stream 1 declares 200 bytes and sends 100; stream 2 is answered, so stream 1's head has been read before it.
        await peer.SendAsync(RawWire.RequestFrame(1, Echo.Request(echo, new byte[100]), endStream: false, declaredLength: 200));
        await peer.SendAsync(RawWire.RequestFrame(2, Echo.Request(echo, [7])));
        await peer.ReadUntilAsync(FrameType.End, 2);

        var stopping = server.StopAcceptingAsync(CancellationToken.None).AsTask();
        var (goAway, _) = await peer.ReadUntilAsync(FrameType.GoAway, 2);
        Assert.Equal(2u, goAway.StreamId);
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "StopAcceptingAsync completed while an admitted request's payload was still arriving.");

        await peer.SendAsync(RawWire.Frame(DataHeader(1, Wire.EndStream), new byte[100]));
        await stopping.WaitAsync(Echo.Bound);

        var (data, body) = await peer.ReadUntilAsync(FrameType.Data, 1);
        Assert.Equal(Wire.EndMessage, data.Flags);
        Assert.Equal(200, body.Length);
        await peer.ReadUntilAsync(FrameType.End, 1);
        Assert.True(await peer.WaitForCloseAsync(Echo.Bound), "The connection stayed open after its last stream ended.");
    }

    [Fact(Timeout = 60_000)]
    public async Task StopAccepting_StopsWaitingWhenItsTokenFires_AndDisposeFailsTheStreamUnavailable()
    {
        var server = await StartAsync();
        var echo = Echo.Serve(server);
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!);
        await peer.SendAsync(RawWire.RequestFrame(1, Echo.Request(echo, new byte[100]), endStream: false, declaredLength: 200));
        await peer.SendAsync(RawWire.RequestFrame(2, Echo.Request(echo, [7])));
        await peer.ReadUntilAsync(FrameType.End, 2);

        using var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.StopAcceptingAsync(grace.Token).AsTask().WaitAsync(Echo.Bound));
        await server.DisposeAsync().AsTask().WaitAsync(Echo.Bound);

        var (error, message) = await peer.ReadUntilAsync(FrameType.Error, 1);
        Assert.Equal((byte)PlexusErrorCode.Unavailable, error.Code);
        Assert.NotEmpty(message);
        Assert.True(await peer.WaitForCloseAsync(Echo.Bound));
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestRefusedAtItsHead_IsAnsweredAtOnce_WithoutWaitingForItsPayload()
    {
        await using var server = await StartAsync();
        var echo = Echo.Serve(server);
        await using var peer = await RawPeer.ConnectAsync(server.BoundEndPoint!);

        // Ten MiB declared, none sent: the refusal must not wait for (or make room for) the payload.
        var stale = Echo.Request((echo.Endpoint, InstanceId.NewId()), []);
        await peer.SendAsync(RawWire.RequestFrame(1, stale, endStream: false, declaredLength: 10 * 1024 * 1024));

        var (error, message) = await peer.ReadUntilAsync(FrameType.Error, 1);
        Assert.Equal((byte)PlexusErrorCode.Unavailable, error.Code);
        Assert.Equal(Wire.BeforeFirstByte, error.Flags);
        Assert.Contains("stale", System.Text.Encoding.UTF8.GetString(message), StringComparison.Ordinal);

        // Late payload of the refused stream is dropped; the connection carries on.
        await peer.SendAsync(RawWire.Frame(DataHeader(1, 0), new byte[1000]));
        await peer.SendAsync(RawWire.RequestFrame(2, Echo.Request(echo, [9])));
        var (_, reply) = await peer.ReadUntilAsync(FrameType.Data, 2);
        Assert.Equal([9], reply);
    }

    private static async Task<TcpServer> StartAsync()
    {
        var server = (TcpServer)new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    private static byte[] DataHeader(uint streamId, byte flags)
    {
        var header = new byte[Wire.CommonHeaderLength];
        header[0] = (byte)FrameType.Data;
        header[1] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(2), streamId);
        return header;
    }
}
