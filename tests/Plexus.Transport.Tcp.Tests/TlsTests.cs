namespace Plexus.Transport.Tcp.Tests;

/// <summary>TLS and mutual TLS with certificates generated for the test.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly CertificateFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tls_ServesRequests_AndAdvertisesTheTlsFlag(bool lowLatency)
    {
        await using var server = await StartServerAsync(clientCertificateRequired: false, new LogCapture(), lowLatency);
        await using var client = ClientFactory(new TcpTlsOptions { CaPath = _files.CaPath }, lowLatency).CreateClient();
        var echo = Echo.Serve(server);

        Assert.Contains("tls=true", server.Address.Query, StringComparison.Ordinal);
        Assert.Equal("over tls"u8.ToArray(), Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, "over tls"u8.ToArray()))));
    }

    [Fact(Timeout = 60_000)]
    public async Task Tls_ClientThatDoesNotTrustTheServersCa_IsRefusedWithAClearError()
    {
        await using var server = await StartServerAsync(clientCertificateRequired: false, new LogCapture());
        await using var client = ClientFactory(new TcpTlsOptions()).CreateClient();
        var echo = Echo.Serve(server);

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("Tls:CaPath", error.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MutualTls_ClientWithACertificateFromTheCa_IsServed(bool lowLatency)
    {
        await using var server = await StartServerAsync(clientCertificateRequired: true, new LogCapture(), lowLatency);
        await using var client = ClientFactory(
            new TcpTlsOptions
            {
                CaPath = _files.CaPath,
                CertificatePath = _files.ClientPfxPath,
                CertificatePassword = CertificateFiles.PfxPassword,
            },
            lowLatency).CreateClient();
        var echo = Echo.Serve(server);

        Assert.Equal("mutual"u8.ToArray(), Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, "mutual"u8.ToArray()))));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MutualTls_ClientWithoutACertificate_IsRefused_AndBothSidesSayWhy(bool lowLatency)
    {
        var log = new LogCapture();
        await using var server = await StartServerAsync(clientCertificateRequired: true, log, lowLatency);
        await using var client = ClientFactory(new TcpTlsOptions { CaPath = _files.CaPath }, lowLatency).CreateClient();
        var echo = Echo.Serve(server);

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("certificate", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("presented no certificate", await log.WaitForAsync("TcpTlsRefused", Echo.Bound), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task MutualTls_ClientWithACertificateFromAnotherCa_IsRefused_AndBothSidesSayWhy()
    {
        var log = new LogCapture();
        await using var server = await StartServerAsync(clientCertificateRequired: true, log);
        await using var client = ClientFactory(new TcpTlsOptions
        {
            CaPath = _files.CaPath,
            CertificatePath = _files.RogueClientCertificatePath,
            KeyPath = _files.RogueClientKeyPath,
        }).CreateClient();
        var echo = Echo.Serve(server);

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("certificate", error.Message, StringComparison.OrdinalIgnoreCase);
        var line = await log.WaitForAsync("TcpTlsRefused", Echo.Bound);
        Assert.Contains("rogue-client", line, StringComparison.Ordinal);
        Assert.Contains("Tls:CaPath", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_NamingAMissingCertificateFile_AreRefusedNamingTheKey()
    {
        var options = TestOptions.Loopback();
        options.Tls = new TcpTlsOptions { Enabled = true, CertificatePath = Path.Combine(_files.Folder, "nope.pem") };

        var error = Assert.Throws<ArgumentException>(() => new TcpTransportFactory(options, TestCodecs.TwoPart()));

        Assert.Contains("Plexus:Transports:Tcp:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    private async Task<IRequestPlaneServer> StartServerAsync(bool clientCertificateRequired, LogCapture log, bool lowLatency = false)
    {
        var options = TestOptions.Loopback();
        options.LowLatency = lowLatency;
        options.Tls = new TcpTlsOptions
        {
            Enabled = true,
            CertificatePath = _files.ServerCertificatePath,
            KeyPath = _files.ServerKeyPath,
            CaPath = _files.CaPath,
            ClientCertificateRequired = clientCertificateRequired,
        };
        var server = new TcpTransportFactory(options, TestCodecs.TwoPart(), log.Factory()).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        return server;
    }

    private static TcpTransportFactory ClientFactory(TcpTlsOptions tls, bool lowLatency = false)
    {
        var options = TestOptions.Loopback();
        options.LowLatency = lowLatency;
        options.Tls = tls;
        return new TcpTransportFactory(options, TestCodecs.TwoPart());
    }
}
