using System.Text;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// The Go peer against itself: proves the independent implementation (and the certificates and the relay the interop
/// tests use) before it is trusted as a second opinion on the C# transport.
/// </summary>
public sealed class GoPeerTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(45);

    [Fact(Timeout = 180_000)]
    public async Task GoClient_TalksToGoServer_Directly()
    {
        await using var server = await StartServerAsync();

        var result = await GoPeerProgram.RunClientAsync(Client(server.Address) with
        {
            Payload = "hello"u8.ToArray(),
            RequestId = "direct-1",
            Headers = [new("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
        }, ClientTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["alpn plexus/1", "message hello", "end"], result.Lines);
        const string Expected = "request interop/go/echo id=direct-1 instance=0 deadline=0 length=5 headers=traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Assert.True(await server.WaitForLineAsync(Expected, TimeSpan.FromSeconds(10)), $"The server never printed \"{Expected}\"; it printed: {string.Join(" | ", server.Lines)}");
    }

    [Fact(Timeout = 180_000)]
    public async Task GoClient_UnknownEndpoint_IsRefusedWithUnavailableBeforeFirstByte()
    {
        await using var server = await StartServerAsync();

        var result = await GoPeerProgram.RunClientAsync(Client(server.Address) with
        {
            Endpoint = "interop/go/missing",
            Payload = "x"u8.ToArray(),
        }, ClientTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, result.Lines.Count);
        Assert.Equal("alpn plexus/1", result.Lines[0]);
        Assert.StartsWith("error 1 1 no such endpoint interop/go/missing", result.Lines[1], StringComparison.Ordinal);
        Assert.Equal("end", result.Lines[2]);
    }

    [Fact(Timeout = 180_000)]
    public async Task GoClient_ThroughALossyReorderingRelay_ReceivesTheWholeEcho()
    {
        await using var server = await StartServerAsync();
        await using var relay = new UdpRelay(server.EndPoint, seed: 4242, dropProbability: 0.05, reorderProbability: 0.05);
        var payload = Payload(200 * 1024);

        var result = await GoPeerProgram.RunClientAsync(Client(relay.Address) with { Payload = payload, Checksum = true }, ClientTimeout);

        Assert.True(result.ExitCode == 0, $"{relay}{Environment.NewLine}{result}");
        Assert.Equal(3, result.Lines.Count);
        Assert.Equal("alpn plexus/1", result.Lines[0]);
        Assert.True(result.Lines[1] == "message " + Encoding.ASCII.GetString(payload), $"the echo differs from the payload: {result.Lines[1].Length - "message ".Length} bytes came back");
        Assert.Equal("end", result.Lines[2]);
        Assert.True(relay.Dropped > 0, relay.ToString());
        Assert.True(relay.Reordered > 0, relay.ToString());
        Assert.True(relay.Forwarded > 100, relay.ToString());
    }

    [Fact(Timeout = 180_000)]
    public async Task GoClient_WithACaThatDidNotSignTheServer_FailsTheHandshake()
    {
        await using var server = await StartServerAsync();

        var result = await GoPeerProgram.RunClientAsync(Client(server.Address) with
        {
            CaPath = certificates.OtherCaPath,
            Payload = "x"u8.ToArray(),
        }, ClientTimeout);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("certificate", result.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("message", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Lines, line => line.StartsWith("request ", StringComparison.Ordinal));
    }

    [Fact(Timeout = 180_000)]
    public async Task GoClient_ForAServerNameTheCertificateDoesNotCarry_FailsTheHandshake()
    {
        await using var server = await StartServerAsync();

        var result = await GoPeerProgram.RunClientAsync(Client(server.Address) with
        {
            ServerName = "not-localhost.example",
            Payload = "x"u8.ToArray(),
        }, ClientTimeout);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("certificate", result.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact(Timeout = 180_000)]
    public async Task MutualTls_GoClientWithACertificateFromTheCa_IsServed()
    {
        await using var server = await StartServerAsync(requireClientCertificates: true);

        var result = await GoPeerProgram.RunClientAsync(Client(server.Address) with
        {
            CertificatePath = certificates.ClientCertificatePath,
            KeyPath = certificates.ClientKeyPath,
            Payload = "mutual"u8.ToArray(),
        }, ClientTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["alpn plexus/1", "message mutual", "end"], result.Lines);
    }

    [Fact(Timeout = 180_000)]
    public async Task MutualTls_GoClientWithoutACertificate_IsRefused()
    {
        await using var server = await StartServerAsync(requireClientCertificates: true);

        var result = await GoPeerProgram.RunClientAsync(Client(server.Address) with { Payload = "x"u8.ToArray() }, ClientTimeout);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("certificate", result.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("message", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Lines, line => line.StartsWith("request ", StringComparison.Ordinal));
    }

    [Fact(Timeout = 180_000)]
    public async Task MutualTls_GoClientWithACertificateFromAnotherCa_IsRefused()
    {
        await using var server = await StartServerAsync(requireClientCertificates: true);

        var result = await GoPeerProgram.RunClientAsync(Client(server.Address) with
        {
            CertificatePath = certificates.OtherClientCertificatePath,
            KeyPath = certificates.OtherClientKeyPath,
            Payload = "x"u8.ToArray(),
        }, ClientTimeout);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("certificate", result.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("message", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Lines, line => line.StartsWith("request ", StringComparison.Ordinal));
    }

    private Task<GoPeerServer> StartServerAsync(bool requireClientCertificates = false) =>
        GoPeerProgram.StartServerAsync(
            certificates.ServerCertificatePath,
            certificates.ServerKeyPath,
            requireClientCertificates ? certificates.CaPath : null);

    private GoPeerClientOptions Client(string address) => new() { Connect = address, CaPath = certificates.CaPath };

    /// <summary>Printable ASCII with a position marker every 64 bytes, so a misplaced chunk would show.</summary>
    private static byte[] Payload(int length)
    {
        var text = new StringBuilder(length + 64);
        for (var i = 0; text.Length < length; i++)
        {
            text.Append(i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture)).Append(':').Append('a', 55);
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }
}
