using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic.Tests.Connections;

/// <summary>The QUIC engine on its own: handshakes with verification, streams both ways, flow control, close reasons.</summary>
public sealed class EngineTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task A_client_and_a_listener_complete_a_verified_handshake_and_echo_on_a_stream()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var serving = EchoOneStreamAsync(listener, timeout.Token);

        await using var client = await QuicConnection.ConnectAsync(
            new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
        var stream = await client.OpenBidirectionalStreamAsync(timeout.Token);
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);
        await stream.Output.WriteAsync(payload, timeout.Token);
        stream.Output.Complete();

        var echoed = await ReadAllAsync(stream.Input, timeout.Token);
        Assert.Equal(payload, echoed);
        await serving;
    }

    [Fact]
    public async Task A_client_refuses_a_server_whose_certificate_another_CA_signed()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.OtherCaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var failure = await Assert.ThrowsAsync<QuicConnectionClosedException>(async () =>
            await QuicConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token));
        Assert.Equal(QuicCloseKind.Tls, failure.Info.Kind);
        Assert.Contains("not signed by a CA this side trusts", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutual_TLS_refuses_a_client_without_a_certificate_saying_so()
    {
        await using var listener = StartListener(requireClientCertificate: true);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var failure = await Assert.ThrowsAsync<QuicConnectionClosedException>(async () =>
        {
            await using var connection = await QuicConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
            // TLS 1.3: the client may finish before the server has judged its (missing) certificate.
            var stream = await connection.OpenBidirectionalStreamAsync(timeout.Token);
            await stream.Output.WriteAsync(new byte[] { 1 }, timeout.Token);
            await connection.Closed.WaitAsync(timeout.Token);
            await stream.Input.ReadAsync(timeout.Token);
        });
        Assert.Contains("certificate_required", failure.Message, StringComparison.Ordinal);
    }

    private QuicListener StartListener(bool requireClientCertificate)
    {
        var tls = QuicTlsCredentials.CreateServer(
            File.ReadAllText(_certificates.ServerCertificatePath), File.ReadAllText(_certificates.ServerKeyPath),
            File.ReadAllText(_certificates.CaPath), requireClientCertificate);
        return QuicListener.Start(new IPEndPoint(IPAddress.Loopback, 0), tls, new QuicConnectionSettings { MaxInboundBidirectionalStreams = 100 }, NullLogger.Instance, TimeProvider.System);
    }

    private static async Task EchoOneStreamAsync(QuicListener listener, CancellationToken cancellationToken)
    {
        var connection = await listener.AcceptConnectionAsync(cancellationToken);
        var stream = await connection.AcceptInboundStreamAsync(cancellationToken);
        while (true)
        {
            var result = await stream.Input.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                await stream.Output.WriteAsync(segment, cancellationToken);
            }

            stream.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        stream.Output.Complete();
        await stream.Completed.WaitAsync(cancellationToken);
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var all = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                all.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return all.WrittenSpan.ToArray();
            }
        }
    }
}
