using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// <c>Tls:Mode=cluster</c> over QUIC: members of one cluster talk over mutual TLS with certificates from its CA; anyone
/// else is refused with a message saying why, the refusing side logs it; renewals apply to new connections without
/// dropping open ones.
/// </summary>
public sealed class QuicClusterTlsTests : IDisposable
{
    private const string NotInCluster = "Tls:Mode=cluster needs the node to be in a cluster: set Plexus:Cluster:Seed=true or Plexus:Cluster:Join=<seed address>";

    private readonly ClusterCertificates _cluster = new();
    private readonly ClusterCertificates _otherCluster = new("Another Cluster's CA");
    private readonly string _trust = Directory.CreateTempSubdirectory("plexus-quic-cluster-trust-").FullName;

    public void Dispose()
    {
        _cluster.Dispose();
        _otherCluster.Dispose();
        Directory.Delete(_trust, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task TwoMembers_CallEachOther_OverMutualTls()
    {
        var log = new QuicLogCapture();
        await using var server = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-a")), log);
        await using var client = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")));
        var echo = QuicEcho.Serve(server);

        // Neither certificate names 127.0.0.1: names are not checked. No ephemeral certificate is made or published.
        Assert.Equal("member"u8.ToArray(), Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "member"u8.ToArray()))));
        Assert.DoesNotContain(log.Lines, line => line.Contains("QuicEphemeralCertificate", StringComparison.Ordinal));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("self-made")]
    [InlineData("another CA")]
    public async Task ClientWhoseCertificateIsNotFromTheClusterCa_IsRefused_ServerLogsIt_AndKeepsServingMembers(string kind)
    {
        var log = new QuicLogCapture();
        await using var server = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-a")), log);
        var echo = QuicEcho.Serve(server);

        // The intruder trusts the cluster's CA (so it accepts the server) but holds no certificate from it.
        var intruderCertificate = kind == "self-made"
            ? ClusterCertificates.SelfMade("intruder", _cluster.Authority)
            : new ClusterCertificate(_otherCluster.Issue("intruder").Certificate, _cluster.Authority);
        await using var intruder = ClusterClient(new TestClusterIdentity(intruderCertificate));
        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(intruder, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("this node has no certificate from the cluster CA", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=intruder", error.Message, StringComparison.Ordinal);
        var line = await log.WaitForAsync("QuicHandshakeRefused", QuicEcho.Bound);
        Assert.Contains("not a member of this cluster", line, StringComparison.Ordinal);
        Assert.Contains("CN=intruder", line, StringComparison.Ordinal);

        await using var member = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")));
        Assert.Single(await QuicEcho.CallAsync(member, server.Address, QuicEcho.Request(echo, "still serving"u8.ToArray())));
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientOutsideTheCluster_WithoutACertificate_IsRefusedWithAMessageSayingSo()
    {
        var log = new QuicLogCapture();

        // The server's certificate names 127.0.0.1 here, for the outsider's own name check.
        await using var server = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-a", "127.0.0.1")), log);
        var echo = QuicEcho.Serve(server);
        var caPath = _cluster.WriteAuthorityPem();
        try
        {
            // Trusts the cluster's CA from a file, but is no member: it has no certificate to present.
            await using var outsider = PlainClient(new QuicTlsOptions { CaPath = caPath });
            var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(outsider, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

            Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
            Assert.True(error.BeforeFirstByte);
            Assert.Contains("this node has no certificate from the cluster CA: it presented no certificate", error.Message, StringComparison.Ordinal);
            Assert.Contains("presented no certificate", await log.WaitForAsync("QuicHandshakeRefused", QuicEcho.Bound), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(caPath);
        }

        // A client with no TLS settings at all does not even trust the server.
        await using var plain = PlainClient(new QuicTlsOptions());
        var untrusted = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(plain, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));
        Assert.Equal(PlexusErrorCode.Unavailable, untrusted.Code);
        Assert.Equal(0, ((QuicServer)server).SessionCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task Member_RefusesAServerFromAnotherCluster_WithAClearMessage()
    {
        await using var server = await StartServerAsync(new TestClusterIdentity(_otherCluster.Issue("stranger")), new QuicLogCapture());
        var echo = QuicEcho.Serve(server);
        var clientLog = new QuicLogCapture();
        await using var client = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")), clientLog);

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("the server's certificate is not from this cluster's CA", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=stranger", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=stranger", await clientLog.WaitForAsync("QuicClusterServerRefused", QuicEcho.Bound), StringComparison.Ordinal);
    }

    [Fact(Timeout = 90_000)]
    public async Task Renewal_KeepsOpenConnections_AndNewHandshakesUseTheNewCertificates()
    {
        var serverLog = new QuicLogCapture();
        var serverIdentity = new TestClusterIdentity(_cluster.Issue("node-a"));
        await using var server = await StartServerAsync(serverIdentity, serverLog);
        await using var other = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-c")), new QuicLogCapture());
        var echo = QuicEcho.Serve(server);
        var otherEcho = QuicEcho.Serve(other);
        var clientIdentity = new TestClusterIdentity(_cluster.Issue("node-b"));
        await using var client = ClusterClient(clientIdentity);

        // A response stream open across the renewal, and a connection in use.
        var slow = QuicEcho.Serve(server, "slow", async (request, responses) =>
        {
            await responses.WriteMessageAsync("first"u8.ToArray(), request.RequestAborted);
            await Task.Delay(500, request.RequestAborted);
            await responses.WriteMessageAsync("second"u8.ToArray(), request.RequestAborted);
        });
        await using var open = await client.SendAsync(server.Address, QuicEcho.Request(slow, "open"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        Assert.True(await open.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));

        var renewed = _cluster.Issue("node-a");
        serverIdentity.Renew(renewed);
        clientIdentity.Renew(_cluster.Issue("node-b"));
        Assert.Contains(renewed.Certificate.SerialNumber, await serverLog.WaitForAsync("QuicClusterCertificateRenewed", QuicEcho.Bound), StringComparison.Ordinal);

        // The open stream finishes and the connection carries new calls: nothing was dropped.
        Assert.True(await open.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.False(await open.MoveNextAsync().AsTask().WaitAsync(QuicEcho.Bound));
        Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "after"u8.ToArray())));
        Assert.Equal(1, ((QuicServer)server).SessionCount);

        // A new member connects with the renewed certificates on both sides.
        await using (var newcomer = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-d"))))
        {
            Assert.Single(await QuicEcho.CallAsync(newcomer, server.Address, QuicEcho.Request(echo, "new"u8.ToArray())));
        }

        // New handshakes present the identity's current certificate: once that is one the cluster does not know, a new
        // client refuses the server (naming the new certificate), while the connection opened before carries on.
        serverIdentity.Renew(new ClusterCertificate(_otherCluster.Issue("node-a-impostor").Certificate, _cluster.Authority));
        await serverLog.WaitForAsync("CN=node-a-impostor", QuicEcho.Bound);
        await using (var late = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-e"))))
        {
            var refusedServer = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(late, server.Address, QuicEcho.Request(echo, "x"u8.ToArray())));
            Assert.Contains("CN=node-a-impostor", refusedServer.Message, StringComparison.Ordinal);
        }

        // The same for the client: its next connection presents its current certificate.
        clientIdentity.Renew(new ClusterCertificate(_otherCluster.Issue("node-b-impostor").Certificate, _cluster.Authority));
        var refusedClient = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, other.Address, QuicEcho.Request(otherEcho, "x"u8.ToArray())));
        Assert.Contains("CN=node-b-impostor", refusedClient.Message, StringComparison.Ordinal);
        Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "still open"u8.ToArray())));
    }

    [Fact]
    public void ClusterMode_WithCertificateFiles_IsRefusedNamingTheKeys()
    {
        var options = QuicTestOptions.Loopback(certificates: null);
        options.Tls = new QuicTlsOptions { Mode = "cluster", CertificatePath = "/etc/plexus/node.pem", KeyPath = "/etc/plexus/node.key" };

        var error = Assert.Throws<ArgumentException>(() => new QuicTransportFactory(options, TestCodecs.TwoPart(), clusterIdentity: new TestClusterIdentity(_cluster.Issue("node-a"))));

        Assert.Contains("Plexus:Transports:Quic:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Quic:Tls:KeyPath", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Tls:CaPath", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cluster", "Tls:CaPath", "/etc/plexus/ca.pem")]
    [InlineData("off", "Tls:Mode", null)]
    public void TlsMode_InvalidCombinations_FailValidationOnStart_NamingTheKey(string mode, string setting, string? value)
    {
        var settings = new Dictionary<string, string?> { ["Plexus:Transports:Quic:Tls:Mode"] = mode };
        if (value is not null)
        {
            settings[$"Plexus:Transports:Quic:{setting}"] = value;
        }

        using var services = BuildServices(settings, identity: null);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains($"Plexus:Transports:Quic:{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClusterMode_WithoutAClusterIdentity_FailsToStart_AndToConnect_SayingWhatToSet()
    {
        foreach (var identity in new IClusterIdentity?[] { null, new TestClusterIdentity(null, configured: false) })
        {
            var options = QuicTestOptions.Loopback(certificates: null);
            options.Tls = new QuicTlsOptions { Mode = "cluster" };
            var factory = new QuicTransportFactory(options, TestCodecs.TwoPart(), clusterIdentity: identity);
            await using var server = factory.CreateServer();

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => server.StartAsync(CancellationToken.None).AsTask());
            Assert.Contains(NotInCluster, error.Message, StringComparison.Ordinal);

            await using var client = factory.CreateClient();
            var refused = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, new Uri("quic://127.0.0.1:9"), QuicEcho.Request((new EndpointAddress("quic", "tests", "echo"), InstanceId.NewId()), [])));
            Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
            Assert.Contains(NotInCluster, refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Plugin_TakesTheHostsClusterIdentity_FromTheContainer()
    {
        var identity = new TestClusterIdentity(_cluster.Issue("node-a"));
        using var services = BuildServices(new() { ["Plexus:Transports:Quic:Bind"] = "127.0.0.1:0", ["Plexus:Transports:Quic:Tls:Mode"] = "cluster" }, identity);
        services.GetRequiredService<IStartupValidator>().Validate();
        var factory = Assert.Single(services.GetServices<ITransportFactory>());

        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        var echo = QuicEcho.Serve(server);
        await using var client = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")));

        Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "from the container"u8.ToArray())));
    }

    private static ServiceProvider BuildServices(Dictionary<string, string?> settings, IClusterIdentity? identity)
    {
        PlexusDurationConverter.Register();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IFrameCodecs>(TestCodecs.TwoPart());
        if (identity is not null)
        {
            services.AddSingleton(identity);
        }

        new QuicPlugin().ConfigureServices(services, configuration);
        return services.BuildServiceProvider();
    }

    private static async Task<IRequestPlaneServer> StartServerAsync(IClusterIdentity identity, QuicLogCapture log)
    {
        var options = QuicTestOptions.Loopback(certificates: null);
        options.Tls = new QuicTlsOptions { Mode = "cluster" };
        var server = new QuicTransportFactory(options, TestCodecs.TwoPart(), log.Factory(), clusterIdentity: identity).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        return server;
    }

    private static IRequestPlaneClient ClusterClient(IClusterIdentity identity, QuicLogCapture? log = null)
    {
        var options = QuicTestOptions.Loopback(certificates: null);
        options.Tls = new QuicTlsOptions { Mode = "cluster" };
        return new QuicTransportFactory(options, TestCodecs.TwoPart(), log?.Factory(), clusterIdentity: identity).CreateClient();
    }

    private IRequestPlaneClient PlainClient(QuicTlsOptions tls)
    {
        var options = QuicTestOptions.Loopback(certificates: null);
        options.Tls = tls;
        options.EphemeralTrustDirectory = _trust;
        return QuicTestOptions.Factory(options).CreateClient();
    }
}
