using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// <c>Tls:Mode=cluster</c>: members of one cluster talk over mutual TLS with certificates from its CA; anyone else is
/// refused with a message saying why, the refusing side logs it; renewals apply to new connections without dropping
/// open ones.
/// </summary>
public sealed class ClusterTlsTests : IDisposable
{
    private const string NotInCluster = "Tls:Mode=cluster needs the node to be in a cluster: set Plexus:Cluster:Seed=true or Plexus:Cluster:Join=<seed address>";

    private readonly ClusterCertificates _cluster = new();
    private readonly ClusterCertificates _otherCluster = new("Another Cluster's CA");

    public void Dispose()
    {
        _cluster.Dispose();
        _otherCluster.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task TwoMembers_CallEachOther_OverMutualTls()
    {
        await using var server = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-a")), new LogCapture());
        await using var client = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")));
        var echo = Echo.Serve(server);

        // Advertised as TLS, and the call succeeds though neither certificate names 127.0.0.1: names are not checked.
        Assert.Contains("tls=true", server.Address.Query, StringComparison.Ordinal);
        Assert.Equal("member"u8.ToArray(), Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, "member"u8.ToArray()))));

        // TLS is used even for an address without ?tls=true.
        var plainAddress = new Uri(server.Address.GetLeftPart(UriPartial.Authority));
        Assert.Equal("plain"u8.ToArray(), Assert.Single(await Echo.CallAsync(client, plainAddress, Echo.Request(echo, "plain"u8.ToArray()))));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("self-made")]
    [InlineData("another CA")]
    public async Task ClientWhoseCertificateIsNotFromTheClusterCa_IsRefused_ServerLogsIt_AndKeepsServingMembers(string kind)
    {
        var log = new LogCapture();
        await using var server = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-a")), log);
        var echo = Echo.Serve(server);

        // The intruder trusts the cluster's CA (so it accepts the server) but holds no certificate from it.
        var intruderCertificate = kind == "self-made"
            ? ClusterCertificates.SelfMade("intruder", _cluster.Authority)
            : new ClusterCertificate(_otherCluster.Issue("intruder").Certificate, _cluster.Authority);
        await using var intruder = ClusterClient(new TestClusterIdentity(intruderCertificate));
        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(intruder, server.Address, Echo.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("refused this node: this node has no certificate from the cluster CA", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=intruder", error.Message, StringComparison.Ordinal);
        var line = await log.WaitForAsync("TcpClusterPeerRefused", Echo.Bound);
        Assert.Contains("CN=intruder", line, StringComparison.Ordinal);
        Assert.Contains("not issued by this cluster's CA", line, StringComparison.Ordinal);

        await using var member = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")));
        Assert.Single(await Echo.CallAsync(member, server.Address, Echo.Request(echo, "still serving"u8.ToArray())));
        Assert.Equal(1, ((TcpServer)server).SessionCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientOutsideTheCluster_WithoutACertificate_IsRefusedWithAMessageSayingSo()
    {
        var log = new LogCapture();
        // The server's certificate names 127.0.0.1 here, for the outsider's own name check.
        await using var server = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-a", "127.0.0.1")), log);
        var echo = Echo.Serve(server);
        var caPath = _cluster.WriteAuthorityPem();
        try
        {
            // Trusts the cluster's CA from a file, but is no member: it has no certificate to present.
            await using var outsider = PlainClient(new TcpTlsOptions { CaPath = caPath });
            var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(outsider, server.Address, Echo.Request(echo, "x"u8.ToArray())));

            Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
            Assert.True(error.BeforeFirstByte);
            Assert.Contains("this node has no certificate from the cluster CA: it presented no certificate", error.Message, StringComparison.Ordinal);
            Assert.Contains("presented no certificate", await log.WaitForAsync("TcpClusterPeerRefused", Echo.Bound), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(caPath);
        }

        // A client with no TLS settings at all does not even trust the server.
        await using var plain = PlainClient(new TcpTlsOptions());
        var untrusted = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(plain, server.Address, Echo.Request(echo, "x"u8.ToArray())));
        Assert.Equal(PlexusErrorCode.Unavailable, untrusted.Code);
        Assert.Equal(0, ((TcpServer)server).SessionCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task Member_RefusesAServerFromAnotherCluster_WithAClearMessage()
    {
        var serverLog = new LogCapture();
        await using var server = await StartServerAsync(new TestClusterIdentity(_otherCluster.Issue("stranger")), serverLog);
        var echo = Echo.Serve(server);
        var clientLog = new LogCapture();
        await using var client = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")), clientLog);

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, "x"u8.ToArray())));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("the server's certificate is not from this cluster's CA", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=stranger", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=stranger", await clientLog.WaitForAsync("TcpClusterServerRefused", Echo.Bound), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Renewal_KeepsOpenConnections_AndNewHandshakesUseTheNewCertificates()
    {
        var serverIdentity = new TestClusterIdentity(_cluster.Issue("node-a"));
        await using var server = await StartServerAsync(serverIdentity, new LogCapture());
        await using var other = await StartServerAsync(new TestClusterIdentity(_cluster.Issue("node-c")), new LogCapture());
        var echo = Echo.Serve(server);
        var otherEcho = Echo.Serve(other);
        var clientIdentity = new TestClusterIdentity(_cluster.Issue("node-b"));
        await using var client = ClusterClient(clientIdentity);

        // A response stream open across the renewal, and a connection in use.
        var slow = SlowEndpoint(server);
        await using var open = await client.SendAsync(server.Address, Echo.Request(slow, "open"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        Assert.True(await open.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));

        var renewed = _cluster.Issue("node-a");
        serverIdentity.Renew(renewed);
        clientIdentity.Renew(_cluster.Issue("node-b"));

        // The open stream finishes and the connection carries new calls: nothing was dropped.
        Assert.True(await open.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        Assert.False(await open.MoveNextAsync().AsTask().WaitAsync(Echo.Bound));
        Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, "after"u8.ToArray())));
        Assert.Equal(1, ((TcpServer)server).SessionCount);

        // A new handshake with the server gets the renewed certificate.
        Assert.Equal(renewed.Certificate.SerialNumber, await ServerCertificateSerialAsync((TcpServer)server, renewed));

        // The client's next connection presents its current certificate: once that is one the cluster does not know,
        // a new server refuses it, while the connection opened before carries on.
        clientIdentity.Renew(new ClusterCertificate(_otherCluster.Issue("node-b").Certificate, _cluster.Authority));
        var refused = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, other.Address, Echo.Request(otherEcho, "x"u8.ToArray())));
        Assert.Contains("no certificate from the cluster CA", refused.Message, StringComparison.Ordinal);
        Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, "still open"u8.ToArray())));
    }

    [Fact]
    public void ClusterMode_WithCertificateFiles_IsRefusedNamingTheKeys()
    {
        var options = TestOptions.Loopback();
        options.Tls = new TcpTlsOptions { Mode = "cluster", CertificatePath = "/etc/plexus/node.pem", CaPath = "/etc/plexus/ca.pem" };

        var error = Assert.Throws<ArgumentException>(() => new TcpTransportFactory(options, TestCodecs.TwoPart(), clusterIdentity: new TestClusterIdentity(_cluster.Issue("node-a"))));

        Assert.Contains("Plexus:Transports:Tcp:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Tcp:Tls:CaPath", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Tls:KeyPath", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cluster", "Tls:CertificatePath", "/etc/plexus/node.pem")]
    [InlineData("cluster", "Tls:KeyPath", "/etc/plexus/node.key")]
    [InlineData("sometimes", "Tls:Mode", null)]
    [InlineData("off", "Tls:Enabled", "true")]
    public void TlsMode_InvalidCombinations_FailValidationOnStart_NamingTheKey(string mode, string setting, string? value)
    {
        var settings = new Dictionary<string, string?> { ["Plexus:Transports:Tcp:Tls:Mode"] = mode };
        if (value is not null)
        {
            settings[$"Plexus:Transports:Tcp:{setting}"] = value;
        }

        using var services = BuildServices(settings, identity: null);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains($"Plexus:Transports:Tcp:{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClusterMode_WithoutAClusterIdentity_FailsToStart_AndToConnect_SayingWhatToSet()
    {
        foreach (var identity in new IClusterIdentity?[] { null, new TestClusterIdentity(null, configured: false) })
        {
            var options = TestOptions.Loopback();
            options.Tls = new TcpTlsOptions { Mode = "cluster" };
            var factory = new TcpTransportFactory(options, TestCodecs.TwoPart(), clusterIdentity: identity);
            await using var server = factory.CreateServer();

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => server.StartAsync(CancellationToken.None).AsTask());
            Assert.Contains(NotInCluster, error.Message, StringComparison.Ordinal);

            await using var client = factory.CreateClient();
            var refused = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, new Uri("tcp://127.0.0.1:9"), Echo.Request((new EndpointAddress("tcp", "tests", "echo"), InstanceId.NewId()), [])));
            Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
            Assert.Contains(NotInCluster, refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Plugin_TakesTheHostsClusterIdentity_FromTheContainer()
    {
        var identity = new TestClusterIdentity(_cluster.Issue("node-a"));
        using var services = BuildServices(new() { ["Plexus:Transports:Tcp:Bind"] = "127.0.0.1:0", ["Plexus:Transports:Tcp:Tls:Mode"] = "cluster" }, identity);
        services.GetRequiredService<IStartupValidator>().Validate();
        var factory = Assert.Single(services.GetServices<ITransportFactory>());

        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        var echo = Echo.Serve(server);
        await using var client = ClusterClient(new TestClusterIdentity(_cluster.Issue("node-b")));

        Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, "from the container"u8.ToArray())));
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

        new TcpPlugin().ConfigureServices(services, configuration);
        return services.BuildServiceProvider();
    }

    private static async Task<IRequestPlaneServer> StartServerAsync(IClusterIdentity identity, LogCapture log)
    {
        var options = TestOptions.Loopback();
        options.Tls = new TcpTlsOptions { Mode = "cluster" };
        var server = new TcpTransportFactory(options, TestCodecs.TwoPart(), log.Factory(), clusterIdentity: identity).CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Echo.Bound);
        return server;
    }

    private static IRequestPlaneClient ClusterClient(IClusterIdentity identity, LogCapture? log = null)
    {
        var options = TestOptions.Loopback();
        options.Tls = new TcpTlsOptions { Mode = "cluster" };
        return new TcpTransportFactory(options, TestCodecs.TwoPart(), log?.Factory(), clusterIdentity: identity).CreateClient();
    }

    private static IRequestPlaneClient PlainClient(TcpTlsOptions tls)
    {
        var options = TestOptions.Loopback();
        options.Tls = tls;
        return new TcpTransportFactory(options, TestCodecs.TwoPart()).CreateClient();
    }

    // Two messages with a pause between them, so that a stream is open while the test renews the certificates.
    private static (EndpointAddress Endpoint, InstanceId Instance) SlowEndpoint(IRequestPlaneServer server)
    {
        var endpoint = new EndpointAddress("tcp", "tests", "slow");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            await responses.WriteMessageAsync("first"u8.ToArray(), request.RequestAborted);
            await Task.Delay(500, request.RequestAborted);
            await responses.WriteMessageAsync("second"u8.ToArray(), request.RequestAborted);
        }));
        return (endpoint, instance);
    }

    // A TLS handshake of our own with the server, presenting a member's certificate: which certificate does it serve?
    private static async Task<string> ServerCertificateSerialAsync(TcpServer server, ClusterCertificate member)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.BoundEndPoint!);
        using var clientCertificate = X509CertificateLoader.LoadPkcs12(member.Certificate.Export(X509ContentType.Pkcs12), null);
        await using var ssl = new SslStream(tcp.GetStream());
        string? serial = null;
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "node-a",
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificates = [clientCertificate],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                serial = certificate?.GetSerialNumberString();
                return true;
            },
        }).WaitAsync(Echo.Bound);
        return serial ?? string.Empty;
    }
}
