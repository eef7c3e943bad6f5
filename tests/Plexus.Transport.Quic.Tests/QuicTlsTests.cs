namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// TLS: the ephemeral certificate of a server without one, trusted by local clients for its address only; a client
/// whose CA did not sign the server; mutual TLS refusals, each with an error that says which certificate check failed.
/// </summary>
public sealed class QuicTlsTests(TestCertificates certificates) : IClassFixture<TestCertificates>, IDisposable
{
    private readonly string _trust = Directory.CreateTempSubdirectory("plexus-quic-trust-").FullName;

    public void Dispose() => Directory.Delete(_trust, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task EphemeralCertificate_ServesALocalClientWithoutCaPath_AndIsWithdrawnAtStop()
    {
        var log = new QuicLogCapture();
        var server = QuicTestOptions.Factory(Ephemeral(), log).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = QuicEcho.Serve(server);
        await using var client = QuicTestOptions.Factory(Ephemeral()).CreateClient();

        Assert.Equal("local"u8.ToArray(), Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "local"u8.ToArray()))));
        var warning = await log.WaitForAsync("QuicEphemeralCertificate", QuicEcho.Bound);
        Assert.StartsWith("Warning", warning, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Quic:Tls:CertificatePath", warning, StringComparison.Ordinal);
        var published = QuicEphemeralTrust.FileFor(Path.Combine(_trust, "ephemeral"), server.Address);
        Assert.Contains(published, warning, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(published));
        }

        await server.DisposeAsync();
        Assert.False(File.Exists(published), "The ephemeral certificate stayed published after its server stopped.");
    }

    [Fact(Timeout = 60_000)]
    public async Task EphemeralCertificate_IsTrustedForTheAddressItWasPublishedFor_Only()
    {
        await using var server = QuicTestOptions.Factory(Ephemeral()).CreateServer();
        await server.StartAsync(CancellationToken.None);
        var echo = QuicEcho.Serve(server);
        await using var client = QuicTestOptions.Factory(Ephemeral()).CreateClient();

        // The same server under another name: nothing was published for it, so only the system store is trusted.
        var other = new Uri($"quic://localhost:{server.Address.Port}");
        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, other, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("not signed by a CA this side trusts", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Quic:Tls:CaPath", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientWithACaThatDidNotSignTheServer_IsRefused_NamingTheCertificateProblem()
    {
        await using var server = await StartServerAsync(clientCertificateRequired: false);
        var echo = QuicEcho.Serve(server);
        await using var client = Client(new QuicTlsOptions { CaPath = certificates.OtherCaPath });

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("certificate was refused: it is not signed by a CA this side trusts", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Quic:Tls:CaPath", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientCheckingAnotherServerName_IsRefused_NamingTheName()
    {
        await using var server = await StartServerAsync(clientCertificateRequired: false);
        var echo = QuicEcho.Serve(server);
        await using var client = Client(new QuicTlsOptions { CaPath = certificates.CaPath, ServerName = "not-localhost.example" });

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("not-localhost.example", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task MutualTls_ClientWithACertificateFromTheCa_IsServed()
    {
        await using var server = await StartServerAsync(clientCertificateRequired: true);
        var echo = QuicEcho.Serve(server);
        await using var client = Client(new QuicTlsOptions
        {
            CaPath = certificates.CaPath,
            CertificatePath = certificates.ClientCertificatePath,
            KeyPath = certificates.ClientKeyPath,
        });

        Assert.Equal("mutual"u8.ToArray(), Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "mutual"u8.ToArray()))));
    }

    [Fact(Timeout = 60_000)]
    public async Task MutualTls_ClientWithoutACertificate_IsRefused_SayingSo()
    {
        await using var server = await StartServerAsync(clientCertificateRequired: true);
        var echo = QuicEcho.Serve(server);
        await using var client = Client(new QuicTlsOptions { CaPath = certificates.CaPath });

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("refused this client in the TLS handshake", error.Message, StringComparison.Ordinal);
        Assert.Contains("certificate_required", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Quic:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task MutualTls_ClientWithACertificateFromAnotherCa_IsRefused_SayingSo()
    {
        await using var server = await StartServerAsync(clientCertificateRequired: true);
        var echo = QuicEcho.Serve(server);
        await using var client = Client(new QuicTlsOptions
        {
            CaPath = certificates.CaPath,
            CertificatePath = certificates.OtherClientCertificatePath,
            KeyPath = certificates.OtherClientKeyPath,
        });

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("refused this client in the TLS handshake", error.Message, StringComparison.Ordinal);
        Assert.Contains("bad_certificate", error.Message, StringComparison.Ordinal);
        Assert.Contains("must be issued by the CA in the server's Tls:CaPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Quic:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CertificateWithAnotherCertificatesKey_IsRefusedAtConstruction_NamingTheKeys()
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.Tls.KeyPath = certificates.ClientKeyPath;

        var error = Assert.Throws<ArgumentException>(() => QuicTestOptions.Factory(options));

        Assert.Contains("Plexus:Transports:Quic:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Quic:Tls:KeyPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CaFileWithoutCertificates_IsRefusedAtConstruction_NamingTheKey()
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.Tls.CaPath = certificates.ServerKeyPath;

        var error = Assert.Throws<ArgumentException>(() => QuicTestOptions.Factory(options));

        Assert.Contains("Plexus:Transports:Quic:Tls:CaPath", error.Message, StringComparison.Ordinal);
    }

    private QuicTransportOptions Ephemeral()
    {
        var options = QuicTestOptions.Loopback(certificates: null);
        options.EphemeralTrustDirectory = Path.Combine(_trust, "ephemeral");
        return options;
    }

    private async Task<IRequestPlaneServer> StartServerAsync(bool clientCertificateRequired)
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.Tls.ClientCertificateRequired = clientCertificateRequired;
        var server = QuicTestOptions.Factory(options).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        return server;
    }

    private IRequestPlaneClient Client(QuicTlsOptions tls)
    {
        var options = QuicTestOptions.Loopback(certificates: null);
        options.Tls = tls;
        options.EphemeralTrustDirectory = Path.Combine(_trust, "ephemeral");
        return QuicTestOptions.Factory(options).CreateClient();
    }
}
