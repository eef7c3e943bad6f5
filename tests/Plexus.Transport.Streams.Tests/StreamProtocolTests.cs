using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Acme.Uds;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Streams.Tests;

/// <summary>
/// The stream protocol against peers that do not follow it, over real Unix sockets: every bad input is one clear
/// error that names what was wrong, and the server goes on serving.
/// </summary>
public sealed class StreamProtocolTests : IAsyncLifetime
{
    private static readonly EndpointAddress Echo = new("streams", "tests", "echo");
    private static readonly InstanceId Instance = new(42);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);
    private readonly UdsTransportFactory _factory = new(Options.Create(new UdsTransportOptions { MaxPayloadBytes = 1024 * 1024 }));
    private readonly string _rawPath = Path.Combine(Path.GetTempPath(), $"plexus-raw-{Guid.NewGuid():N}.sock");
    private IRequestPlaneServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = _factory.CreateServer();
        _server.Register(Echo, Instance, new EchoHandler());
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_rawPath);
    }

    [Fact]
    public async Task AConnectionInAnotherProtocol_IsToldWhatItShouldSpeak_AndTheServerServesTheNext()
    {
        var (kind, body) = await ExchangeAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        AssertError(kind, body, PlexusErrorCode.ProtocolError, "began with 47455420, not the Plexus stream protocol's 505853 01");
        Assert.Equal("still served", await CallAsync("still served"));
    }

    [Fact]
    public async Task StoppingToAccept_WaitsForARequestStillBeingRead_AndEndsOnceItIsWhole()
    {
        byte[] request = [.. Request(Head(Echo.ToString(), payloadLength: 4)), .. "late"u8];
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_server.Address.AbsolutePath));
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(request.AsMemory(0, 12)); // the preamble, the HEAD's frame header and 3 bytes of it

        // Accepted in order: once a later connection is served, the server is reading this one.
        Assert.Equal("proof", await CallAsync("proof"));
        Task stopped = _server.StopAcceptingAsync(CancellationToken.None).AsTask();
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(stopped.IsCompleted, "the drain ended while a request was still being read");

        await stream.WriteAsync(request.AsMemory(12));
        await stopped.WaitAsync(Step);
        byte[] header = new byte[5];
        await stream.ReadExactlyAsync(header).AsTask().WaitAsync(Step);
        byte[] body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(Step);
        Assert.Equal(StreamWire.Message, header[0]);
        Assert.Equal("late", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task AHeadWhoseStringRunsPastItsEnd_NamesTheField()
    {
        byte[] head = new byte[24 + 2 + 5];
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(24), 100); // the endpoint claims 100 bytes; 5 follow
        var (kind, body) = await ExchangeAsync(Request(head));

        AssertError(kind, body, PlexusErrorCode.ProtocolError, "its endpoint says 100 bytes but 5 remain");
        Assert.Equal("after a bad head", await CallAsync("after a bad head"));
    }

    [Fact]
    public async Task AHeadOverItsLimit_IsRefusedBeforeItIsRead()
    {
        byte[] request = [.. "PXS\u0001"u8, StreamWire.Head, 0, 0x10, 0, 0]; // 1 MiB announced, none sent
        var (kind, body) = await ExchangeAsync(request);

        AssertError(kind, body, PlexusErrorCode.ProtocolError, "of at most 65536 bytes");
    }

    [Fact]
    public async Task AnEndpointThatIsNotAnAddress_IsNamed()
    {
        var (kind, body) = await ExchangeAsync(Request(Head("not-an-address", payloadLength: 0)));

        AssertError(kind, body, PlexusErrorCode.ProtocolError, "its endpoint 'not-an-address' is not namespace/component/endpoint");
    }

    [Fact]
    public async Task APayloadOverTheServersLimit_IsRefusedWithTheSettingToRaise_BeforeItIsRead()
    {
        var (kind, body) = await ExchangeAsync(Request(Head(Echo.ToString(), payloadLength: 64L * 1024 * 1024)));

        AssertError(kind, body, PlexusErrorCode.PayloadTooLarge, "raise Plexus:Transports:Uds:MaxPayloadBytes");
    }

    [Fact]
    public async Task AServerFrameOverTheClientsLimit_IsAProtocolError_NotAnAllocation()
    {
        await using var peer = RawServer([StreamWire.Message, 0x7F, 0xFF, 0xFF, 0xFF]);
        var error = await Assert.ThrowsAsync<PlexusException>(() => CallRawAsync());

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("announced a frame of 2147483647 bytes, over this client's limit of 1048576", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFrameKindTheProtocolLacks_IsAProtocolError()
    {
        await using var peer = RawServer([9, 0, 0, 0, 1, 0]);
        var error = await Assert.ThrowsAsync<PlexusException>(() => CallRawAsync());

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("sent a frame of kind 9 and 1 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatClosesMidStream_IsUnavailable()
    {
        await using var peer = RawServer([StreamWire.Message, 0, 0, 0, 2, (byte)'o', (byte)'k']);
        await using var client = _factory.CreateClient();
        await using var responses = await client.SendAsync(new Uri($"uds://{_rawPath}"), Request("x"), CancellationToken.None);

        Assert.True(await responses.MoveNextAsync());
        Assert.Equal("ok", Encoding.UTF8.GetString(responses.Current));
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await responses.MoveNextAsync());
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
    }

    [Fact]
    public void TheHead_CarriesEveryFieldOfTheRequest()
    {
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_123);
        var request = new OutgoingRequest(Echo, new InstanceId(ulong.MaxValue), "rïd-1", ReadOnlySequence<byte>.Empty,
            new Dictionary<string, string> { ["traceparent"] = "00-abc-def-01", ["ключ"] = "значение", [""] = "" }, deadline);
        byte[] body = new byte[StreamRequestHead.Measure(request)];
        StreamRequestHead.Write(body, request);

        var head = StreamRequestHead.Read(body);

        Assert.Equal(Echo, head.Endpoint);
        Assert.Equal(ulong.MaxValue, head.Instance.Value);
        Assert.Equal("rïd-1", head.RequestId);
        Assert.Equal(deadline, head.Deadline);
        Assert.Equal(request.Headers, head.Headers);
        Assert.Equal(0, head.PayloadLength);
        Assert.Null(StreamRequestHead.Read(Head(Echo.ToString(), 0)).Deadline);
    }

    private static OutgoingRequest Request(string payload) =>
        new(Echo, Instance, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(payload)), new Dictionary<string, string>(), null);

    private static byte[] Head(string endpoint, long payloadLength)
    {
        byte[] text = Encoding.UTF8.GetBytes(endpoint);
        byte[] head = new byte[24 + 2 + text.Length + 2 + 2];
        BinaryPrimitives.WriteUInt64BigEndian(head, Instance.Value);
        BinaryPrimitives.WriteInt64BigEndian(head.AsSpan(8), long.MinValue);
        BinaryPrimitives.WriteInt64BigEndian(head.AsSpan(16), payloadLength);
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(24), (ushort)text.Length);
        text.CopyTo(head, 26);
        return head;
    }

    private static byte[] Request(byte[] head)
    {
        byte[] frame = new byte[4 + 5 + head.Length];
        "PXS\u0001"u8.CopyTo(frame);
        StreamWire.WriteFrameHeader(frame.AsSpan(4), StreamWire.Head, head.Length);
        head.CopyTo(frame, 9);
        return frame;
    }

    // Sends raw bytes to the server and reads its one answer frame.
    private async Task<(byte Kind, byte[] Body)> ExchangeAsync(byte[] request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_server.Address.AbsolutePath));
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(request);
        byte[] header = new byte[5];
        await stream.ReadExactlyAsync(header).AsTask().WaitAsync(Step);
        byte[] body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(Step);
        return (header[0], body);
    }

    private static void AssertError(byte kind, byte[] body, PlexusErrorCode code, string says)
    {
        Assert.Equal(StreamWire.Error, kind);
        Assert.Equal((byte)code, body[0]);
        Assert.Contains(says, Encoding.UTF8.GetString(body.AsSpan(2)), StringComparison.Ordinal);
    }

    private async Task<string> CallAsync(string payload)
    {
        await using var client = _factory.CreateClient();
        await using var responses = await client.SendAsync(_server.Address, Request(payload), CancellationToken.None);
        Assert.True(await responses.MoveNextAsync().AsTask().WaitAsync(Step));
        string reply = Encoding.UTF8.GetString(responses.Current);
        Assert.False(await responses.MoveNextAsync().AsTask().WaitAsync(Step));
        return reply;
    }

    private async Task CallRawAsync()
    {
        await using var client = _factory.CreateClient();
        await using var responses = await client.SendAsync(new Uri($"uds://{_rawPath}"), Request("x"), CancellationToken.None);
        while (await responses.MoveNextAsync().AsTask().WaitAsync(Step))
        {
        }
    }

    // A server that answers whatever arrives with the given bytes, then closes.
    private RawPeer RawServer(byte[] answer)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_rawPath));
        listener.Listen();
        return new RawPeer(listener, AnswerAsync(listener, answer));
    }

    private static async Task AnswerAsync(Socket listener, byte[] answer)
    {
        using Socket socket = await listener.AcceptAsync();
        await socket.ReceiveAsync(new byte[4096]);
        await socket.SendAsync(answer);
        socket.Shutdown(SocketShutdown.Both);
    }

    private sealed record RawPeer(Socket Listener, Task Served) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Served.WaitAsync(Step);
            Listener.Dispose();
        }
    }

    private sealed class EchoHandler : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) =>
            responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted);
    }
}
