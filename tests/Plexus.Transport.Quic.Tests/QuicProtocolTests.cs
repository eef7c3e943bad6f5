using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// The protocol on top of QUIC (docs/protocol/quic.md), seen from a raw peer built on the engine: SETTINGS and codec
/// negotiation, and stream errors that fail one request while the connection carries on.
/// </summary>
public sealed partial class QuicProtocolTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    [Fact(Timeout = 60_000)]
    public async Task UnknownCodec_ClosesTheConnectionWithCodecUnknown_AndTheClientSaysWhy()
    {
        var log = new QuicLogCapture();
        await using var server = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates), log).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = QuicEcho.Serve(server);
        await using var client = new QuicTransportFactory(QuicTestOptions.Loopback(certificates), new TestCodecs(new RenamedCodec("other"))).CreateClient();

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("refused the connection: codec 'other' is unknown to this server, whose codec is 'twopart'", error.Message, StringComparison.Ordinal);
        Assert.Contains("codec 'other'", await log.WaitForAsync("QuicSettingsRefused", QuicEcho.Bound), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerWithSeveralCodecs_AnswersWithTheOneTheClientOffers()
    {
        await using var server = new QuicTransportFactory(QuicTestOptions.Loopback(certificates), new TestCodecs(TestCodecs.NewTwoPart(), new RenamedCodec("other"))).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = QuicEcho.Serve(server);
        await using var client = new QuicTransportFactory(QuicTestOptions.Loopback(certificates), new TestCodecs(new RenamedCodec("OTHER"))).CreateClient();

        Assert.Equal("other"u8.ToArray(), Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "other"u8.ToArray()))));
    }

    [Fact(Timeout = 60_000)]
    public async Task SettingsWithTheWrongMagic_CloseTheConnectionWithSettings()
    {
        await using var server = await StartServerAsync();
        await using var peer = await RawPeer.ConnectAsync(server, certificates);

        await peer.SendControlAsync("HTTP/1.1 200 OK\r\n"u8.ToArray());

        var closed = await peer.Connection.Closed.WaitAsync(QuicEcho.Bound);
        Assert.Equal((QuicCloseKind.PeerApplication, QuicErrorCodes.Settings), (closed.Kind, closed.ErrorCode));
        Assert.Contains("PLXQ", closed.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task NoSettingsWithinTheHandshakeTimeout_ClosesTheConnectionWithSettings()
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.HandshakeTimeout = TimeSpan.FromMilliseconds(500);
        await using var server = QuicTestOptions.Factory(options).CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var peer = await RawPeer.ConnectAsync(server, certificates);

        var closed = await peer.Connection.Closed.WaitAsync(QuicEcho.Bound);

        Assert.Equal((QuicCloseKind.PeerApplication, QuicErrorCodes.Settings), (closed.Kind, closed.ErrorCode));
        Assert.Contains("no SETTINGS", closed.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task MalformedFrameOnOneStream_ResetsThatStreamWithProtocol_AndTheConnectionCarriesOn()
    {
        var log = new QuicLogCapture();
        await using var server = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates), log).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = QuicEcho.Serve(server);
        await using var peer = await RawPeer.ConnectAsync(server, certificates);
        await peer.ExchangeSettingsAsync();

        // A TwoPart prefix with unknown flags: the codec cannot read it.
        var bad = await peer.Connection.OpenBidirectionalStreamAsync(CancellationToken.None);
        byte[] garbage = [1, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 1];
        await bad.Output.WriteAsync(garbage);
        var reset = await Assert.ThrowsAsync<QuicStreamAbortedException>(() => RawPeer.ReadToEndAsync(bad.Input));
        Assert.Equal(QuicErrorCodes.Protocol, reset.ErrorCode);
        Assert.Contains("PROTOCOL", await log.WaitForAsync("QuicProtocolViolation", QuicEcho.Bound), StringComparison.Ordinal);

        // The same connection serves the next request.
        var frames = await peer.CallAsync(QuicEcho.Request(echo, "still fine"u8.ToArray()), declaredLength: null);
        var (header, body) = Assert.Single(frames);
        Assert.Equal([QuicWire.Data, QuicWire.EndMessage], header);
        Assert.Equal("still fine"u8.ToArray(), body);
    }

    [Fact(Timeout = 60_000)]
    public async Task PayloadShorterThanDeclared_FailsThatRequestWithProtocolError()
    {
        await using var server = await StartServerAsync();
        var echo = QuicEcho.Serve(server);
        await using var peer = await RawPeer.ConnectAsync(server, certificates);
        await peer.ExchangeSettingsAsync();

        var frames = await peer.CallAsync(QuicEcho.Request(echo, "abc"u8.ToArray()), declaredLength: 10);

        var (header, body) = Assert.Single(frames);
        Assert.Equal([QuicWire.Error, 0, (byte)PlexusErrorCode.ProtocolError], header);
        Assert.Contains("declared a payload of 10 bytes but the stream ended after 3", System.Text.Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    private async Task<IRequestPlaneServer> StartServerAsync()
    {
        var server = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        return server;
    }

    /// <summary>TwoPart under another name, as a second codec a host might have.</summary>
    private sealed class RenamedCodec(string name) : IFrameCodec
    {
        private readonly IFrameCodec _inner = TestCodecs.NewTwoPart();

        public string Name => name;

        public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame) => _inner.TryRead(ref input, limits, out frame);

        public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output) => _inner.Write(header, body, output);
    }

    /// <summary>A client made of the engine and the protocol's pieces, free to break the rules.</summary>
    private sealed class RawPeer(QuicConnection connection, QuicTlsCredentials credentials) : IAsyncDisposable
    {
        private readonly IFrameCodec _codec = TestCodecs.NewTwoPart();

        public QuicConnection Connection => connection;

        // Offers ALPN plexus/1 only unless told otherwise, as a client of the first version does.
        public static async Task<RawPeer> ConnectAsync(IRequestPlaneServer server, TestCertificates certificates, byte version = QuicWire.MinVersion)
        {
            var credentials = QuicTlsCredentials.CreateClient(await File.ReadAllTextAsync(certificates.CaPath), null, null);
            var endpoint = ((QuicServer)server).BoundEndPoint!;
            var options = new QuicTransportOptions { MaxProtocolVersion = version };
            var connection = await QuicConnection.ConnectAsync(endpoint, "localhost", credentials, options.ConnectionSettings(server: false), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
            return new RawPeer(connection, credentials);
        }

        public static async Task<byte[]> ReadToEndAsync(PipeReader input)
        {
            while (true)
            {
                var result = await input.ReadAsync().AsTask().WaitAsync(QuicEcho.Bound);
                if (result.IsCompleted)
                {
                    var bytes = result.Buffer.ToArray();
                    input.AdvanceTo(result.Buffer.End);
                    return bytes;
                }

                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }

        public async Task SendControlAsync(byte[] bytes)
        {
            var control = await connection.OpenUnidirectionalStreamAsync(CancellationToken.None);
            await control.Output.WriteAsync(bytes);
        }

        public async Task ExchangeSettingsAsync()
        {
            var control = await connection.OpenUnidirectionalStreamAsync(CancellationToken.None);
            var version = QuicWire.VersionOf(connection.Alpn);
            new QuicSettings(_codec.Name, 65536, 65536).Write(control.Output, version);
            await control.Output.FlushAsync();
            var serverControl = await connection.AcceptInboundStreamAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
            Assert.Equal("twopart", (await QuicSettings.ReadAsync(serverControl.Input, version, CancellationToken.None)).CodecName);
        }

        // Sends a request in one REQUEST frame (declaring declaredLength bytes when given) and FIN; returns the frames of the answer.
        public async Task<List<(byte[] Header, byte[] Body)>> CallAsync(OutgoingRequest request, long? declaredLength)
        {
            var stream = await connection.OpenBidirectionalStreamAsync(CancellationToken.None);
            var length = QuicRequestHead.Measure(request);
            var header = new byte[length + 4];
            QuicRequestHead.Encode(header, request, declaredLength ?? request.Payload.Length);
            _codec.Write(header.AsSpan(0, length), request.Payload, stream.Output);
            await stream.Output.CompleteAsync();

            var answer = new ReadOnlySequence<byte>(await ReadToEndAsync(stream.Input));
            var frames = new List<(byte[], byte[])>();
            while (_codec.TryRead(ref answer, FrameLimits.Default, out var frame))
            {
                frames.Add((frame.Header.ToArray(), frame.Body.ToArray()));
            }

            Assert.True(answer.IsEmpty, "The answer ended inside a frame.");
            return frames;
        }

        public async ValueTask DisposeAsync()
        {
            await connection.DisposeAsync();
            credentials.Dispose();
        }
    }
}
