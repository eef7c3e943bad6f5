using System.Buffers;
using System.Text;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// The transport against the independent quic-go peer (GoPeer/plexuspeer.go) in both directions: the wire format of
/// docs/protocol/quic.md as a second implementation reads and writes it.
/// </summary>
public sealed class QuicInteropTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(45);

    [Fact(Timeout = 180_000)]
    public async Task GoClient_IsServedByTheTransport_WithItsHeadersAndAChunkedPayload()
    {
        await using var server = (QuicServer)QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var endpoint = new EndpointAddress("interop", "go", "echo");
        var instance = InstanceId.NewId();
        string? seen = null;
        server.Register(endpoint, instance, new EchoWithHeaders(headers => seen = headers));
        var payload = Encoding.ASCII.GetBytes(new string('p', 200 * 1024));

        var result = await GoPeerProgram.RunClientAsync(GoPeerClientOptions.For(server.BoundEndPoint!, certificates.CaPath) with
        {
            Instance = instance.Value,
            Payload = payload,
            Headers = [new("trace", "abc")],
        }, ClientTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["alpn plexus/1", "message " + Encoding.ASCII.GetString(payload), "end"], result.Lines);
        Assert.Equal("trace=abc", seen);
    }

    [Fact(Timeout = 180_000)]
    public async Task GoClient_ForAnotherInstance_IsRefusedWithUnavailableBeforeFirstByte()
    {
        await using var server = (QuicServer)QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateServer();
        await server.StartAsync(CancellationToken.None);
        server.Register(new EndpointAddress("interop", "go", "echo"), InstanceId.NewId(), new EchoWithHeaders(_ => { }));

        var result = await GoPeerProgram.RunClientAsync(GoPeerClientOptions.For(server.BoundEndPoint!, certificates.CaPath) with { Payload = "x"u8.ToArray() }, ClientTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, result.Lines.Count);
        Assert.StartsWith($"error {(int)PlexusErrorCode.Unavailable} 1 ", result.Lines[1], StringComparison.Ordinal);
        Assert.Equal("end", result.Lines[2]);
    }

    [Fact(Timeout = 180_000)]
    public async Task Client_CallsTheGoServer_AndReadsItsErrors()
    {
        await using var go = await GoPeerProgram.StartServerAsync(certificates.ServerCertificatePath, certificates.ServerKeyPath);
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();
        var address = new Uri($"quic://{go.Address}");
        var payload = new byte[300 * 1024];
        new Random(5).NextBytes(payload);

        var echoed = await QuicEcho.CallAsync(client, address, QuicEcho.Request((new EndpointAddress("interop", "go", "echo"), new InstanceId(0)), payload));
        var refused = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, address, QuicEcho.Request((new EndpointAddress("interop", "go", "missing"), new InstanceId(0)), [1])));

        Assert.Equal(payload, Assert.Single(echoed));
        Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
        Assert.True(refused.BeforeFirstByte);
        Assert.Contains("interop/go/missing", refused.Message, StringComparison.Ordinal);
    }

    private sealed class EchoWithHeaders(Action<string> onHeaders) : IEndpointHandler
    {
        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            onHeaders(string.Join(",", request.Headers.Select(header => $"{header.Key}={header.Value}")));
            await responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted);
        }
    }
}
