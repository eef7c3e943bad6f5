using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Quic.Tests;

/// <summary>The plugin entry: binding, validation on start naming keys, registration; addresses and binding.</summary>
public sealed class QuicPluginTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    [Theory]
    [InlineData("Bind", "nowhere")]
    [InlineData("Bind", "[::1:7500")]
    [InlineData("Bind", "999.1.1.1:80")]
    [InlineData("AdvertisedAddress", "[not-v6]")]
    [InlineData("MaxPayloadBytes", "0")]
    [InlineData("MaxFrameBodyBytes", "10")]
    [InlineData("MaxFrameHeaderBytes", "2000000")]
    [InlineData("StreamWindowBytes", "100000")]
    [InlineData("ConnectionWindowBytes", "65536")]
    [InlineData("MaxConcurrentStreams", "0")]
    [InlineData("HandshakeTimeout", "0s")]
    [InlineData("KeepAliveInterval", "1ms")]
    [InlineData("IdleTimeout", "2s")]
    [InlineData("SendBufferBytes", "1000")]
    [InlineData("ConnectionSendBufferBytes", "100000")]
    [InlineData("StalledPeerTimeout", "1ms")]
    [InlineData("MaxUdpPayloadSize", "1000")]
    [InlineData("Tls:CertificatePath", "/no/such/cert.pem")]
    [InlineData("Tls:KeyPath", "/no/such/key.pem")]
    [InlineData("Tls:CaPath", "/no/such/ca.pem")]
    [InlineData("Tls:ClientCertificateRequired", "true")]
    [InlineData("Tls:ServerName", "not a name")]
    public void InvalidSetting_FailsValidationOnStart_NamingTheKey(string setting, string value)
    {
        using var services = BuildServices(new() { [$"Plexus:Transports:Quic:{setting}"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains($"Plexus:Transports:Quic:{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_AreValid_AndAreTheDocumentedOnes()
    {
        var options = new QuicTransportOptions();

        Assert.Empty(options.Validate());
        Assert.Equal(
            ("0.0.0.0:7500", 256L * 1024 * 1024, 64 * 1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024, 4096),
            (options.Bind, options.MaxPayloadBytes, options.MaxFrameBodyBytes, options.MaxFrameHeaderBytes, options.StreamWindowBytes, options.ConnectionWindowBytes, options.MaxConcurrentStreams));
        Assert.Equal(
            (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), 256 * 1024, 1452),
            (options.HandshakeTimeout, options.IdleTimeout, options.KeepAliveInterval, options.SendBufferBytes, options.MaxUdpPayloadSize));
        Assert.Equal((16 * 1024 * 1024, TimeSpan.FromSeconds(10)), (options.ConnectionSendBufferBytes, options.StalledPeerTimeout));
        var settings = options.ConnectionSettings(server: true);
        Assert.Equal((4096, 3), (settings.MaxInboundBidirectionalStreams, settings.MaxInboundUnidirectionalStreams));
        Assert.Equal(["plexus/2", "plexus/1"], settings.Alpns);
        Assert.Equal((16L * 1024 * 1024, TimeSpan.FromSeconds(10)), (settings.ConnectionSendBufferBytes, settings.StalledPeerTimeout));
        var client = options.ConnectionSettings(server: false);
        Assert.Equal((0, 0L), (client.MaxInboundBidirectionalStreams, client.ConnectionSendBufferBytes));
    }

    [Fact]
    public void DurationSettings_TakeAUnit_AndABareNumberIsRefusedNamingTheKey()
    {
        using var good = BuildServices(new()
        {
            ["Plexus:Transports:Quic:KeepAliveInterval"] = "2s",
            ["Plexus:Transports:Quic:IdleTimeout"] = "1m",
            ["Plexus:Transports:Quic:HandshakeTimeout"] = "1500ms",
            ["Plexus:Transports:Quic:StalledPeerTimeout"] = "3s",
            ["Plexus:Transports:Quic:ConnectionSendBufferBytes"] = "4194304",
        });
        var options = good.GetRequiredService<IOptions<QuicTransportOptions>>().Value;
        Assert.Equal(
            (TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(3), 4 * 1024 * 1024),
            (options.KeepAliveInterval, options.IdleTimeout, options.HandshakeTimeout, options.StalledPeerTimeout, options.ConnectionSendBufferBytes));

        using var bad = BuildServices(new() { ["Plexus:Transports:Quic:IdleTimeout"] = "30" });
        var error = Assert.Throws<InvalidOperationException>(() => bad.GetRequiredService<IOptions<QuicTransportOptions>>().Value);
        Assert.Contains("Plexus:Transports:Quic:IdleTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Plugin_RegistersTheFactory_WithItsBoundSettings()
    {
        using var services = BuildServices(new()
        {
            ["Plexus:Transports:Quic:Bind"] = "127.0.0.1:0",
            ["Plexus:Transports:Quic:MaxPayloadBytes"] = "1024",
            ["Plexus:Transports:Quic:Tls:CertificatePath"] = certificates.ServerCertificatePath,
            ["Plexus:Transports:Quic:Tls:KeyPath"] = certificates.ServerKeyPath,
            ["Plexus:Transports:Quic:Tls:CaPath"] = certificates.CaPath,
        });
        services.GetRequiredService<IStartupValidator>().Validate();

        var factory = Assert.Single(services.GetServices<ITransportFactory>());
        Assert.Equal("quic", factory.Name);
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var echo = QuicEcho.Serve(server);

        Assert.Equal("quic", server.Address.Scheme);
        Assert.Equal("127.0.0.1", server.Address.Host);
        Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, new byte[1024])));
        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, new byte[1025])));
        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7500")]
    [InlineData("tcp://127.0.0.1:7500")]
    [InlineData("quic://127.0.0.1")]
    public async Task AddressesOfAnotherShape_AreRefused(string address)
    {
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();

        Assert.Throws<ArgumentException>(() => client.SendAsync(new Uri(address), QuicEcho.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1]), CancellationToken.None));
    }

    [Fact]
    public void Addresses_AreFormattedWithTheSchemeAndBracketsForIPv6_AndTheDefaultAdvertisedHostIsReal()
    {
        Assert.Equal("quic://[::1]:7500/", QuicEndpoints.Format("::1", 7500).ToString());
        Assert.Equal("quic://node-7.internal:7500/", QuicEndpoints.Format("node-7.internal", 7500).ToString());
        Assert.Equal(("::1", 7500), QuicEndpoints.ParseAddress(new Uri("quic://[::1]:7500")));
        Assert.Equal("10.1.2.3", QuicEndpoints.DefaultAdvertisedHost(IPAddress.Parse("10.1.2.3")));
        Assert.NotEqual("0.0.0.0", QuicEndpoints.DefaultAdvertisedHost(IPAddress.Any));
        Assert.False(QuicEndpoints.TryParseHostPort("::1:7500", null, out _, out _, out var error));
        Assert.Contains("[::1]:7500", error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Server_BindsSeparatelyFromWhatItAdvertises()
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.AdvertisedAddress = "localhost";
        await using var server = (QuicServer)QuicTestOptions.Factory(options).CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();
        var echo = QuicEcho.Serve(server);

        Assert.Equal($"quic://localhost:{server.BoundEndPoint!.Port}/", server.Address.ToString());
        Assert.Equal(IPAddress.Loopback, server.BoundEndPoint.Address);
        Assert.Equal("by name"u8.ToArray(), Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "by name"u8.ToArray()))));
    }

    [Fact(Timeout = 60_000)]
    public async Task IPv6Loopback_ServesRequests()
    {
        await using var server = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates, "[::1]:0")).CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)).CreateClient();
        var echo = QuicEcho.Serve(server);

        Assert.Equal("[::1]", server.Address.Host);
        Assert.Equal("v6"u8.ToArray(), Assert.Single(await QuicEcho.CallAsync(client, server.Address, QuicEcho.Request(echo, "v6"u8.ToArray()))));
    }

    [Fact(Timeout = 60_000)]
    public async Task StartingOnAPortInUse_FailsAsAnOptionsValidationNamingBindItsValueAndTheCause()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var bind = $"127.0.0.1:{((IPEndPoint)holder.LocalEndPoint!).Port}";
        await using var server = QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates, bind)).CreateServer();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => server.StartAsync(CancellationToken.None).AsTask());

        var failure = Assert.Single(error.Failures);
        Assert.Contains($"Plexus:Transports:Quic:Bind is '{bind}'", failure, StringComparison.Ordinal);
        Assert.Contains("in use", failure, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task NothingListening_IsUnavailableBeforeFirstByte_NamingTheAddress()
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.HandshakeTimeout = TimeSpan.FromSeconds(1);
        await using var client = QuicTestOptions.Factory(options).CreateClient();
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var address = new Uri($"quic://127.0.0.1:{((IPEndPoint)probe.LocalEndPoint!).Port}");
        probe.Close();

        var error = await Assert.ThrowsAsync<PlexusException>(() => QuicEcho.CallAsync(client, address, QuicEcho.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1])));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains(address.Authority, error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider BuildServices(Dictionary<string, string?> settings)
    {
        // The host registers the duration converter as it loads; the tests stand in for the host.
        PlexusDurationConverter.Register();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IFrameCodecs>(TestCodecs.TwoPart());
        new QuicPlugin().ConfigureServices(services, configuration);
        return services.BuildServiceProvider();
    }
}
