using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>The plugin entry: binding, validation on start naming keys, registration; addresses.</summary>
public sealed class PluginTests
{
    [Theory]
    [InlineData("Bind", "nowhere")]
    [InlineData("Bind", "[::1:7400")]
    [InlineData("Bind", "999.1.1.1:80")]
    [InlineData("Bind", "10.0.1:80")]
    [InlineData("Bind", "[not-v6]:80")]
    [InlineData("MaxPayloadBytes", "0")]
    [InlineData("MaxFrameBodyBytes", "10")]
    [InlineData("StreamWindowBytes", "1000")]
    [InlineData("ConnectionWindowBytes", "65536")]
    [InlineData("KeepAliveTimeout", "00:00:01")]
    [InlineData("MaxQueuedControlBytes", "1000")]
    [InlineData("StalledPeerTimeout", "00:00:00")]
    [InlineData("LowLatencyMaxConnections", "0")]
    [InlineData("LowLatencyMaxConnections", "5000")]
    [InlineData("Tls:CaPath", "/no/such/ca.pem")]
    [InlineData("Tls:ClientCertificateRequired", "true")]
    public void InvalidSetting_FailsValidationOnStart_NamingTheKey(string setting, string value)
    {
        using var services = BuildServices(new() { [$"Plexus:Transports:Tcp:{setting}"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains($"Plexus:Transports:Tcp:{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Plugin_RegistersTheFactory_WithItsBoundSettings()
    {
        using var services = BuildServices(new()
        {
            ["Plexus:Transports:Tcp:Bind"] = "127.0.0.1:0",
            ["Plexus:Transports:Tcp:MaxPayloadBytes"] = "1024",
        });
        services.GetRequiredService<IStartupValidator>().Validate();

        var factory = Assert.Single(services.GetServices<ITransportFactory>());
        Assert.Equal("tcp", factory.Name);
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var echo = Echo.Serve(server);

        Assert.Equal("tcp", server.Address.Scheme);
        Assert.Equal("127.0.0.1", server.Address.Host);
        Assert.Single(await Echo.CallAsync(client, server.Address, Echo.Request(echo, new byte[1024])));
        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, server.Address, Echo.Request(echo, new byte[1025])));
        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7400")]
    [InlineData("tcp://127.0.0.1")]
    public async Task AddressesOfAnotherShape_AreRefused(string address)
    {
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();

        Assert.Throws<ArgumentException>(() => client.SendAsync(new Uri(address), Echo.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1]), CancellationToken.None));
    }

    [Fact(Timeout = 60_000)]
    public async Task NothingListening_IsUnavailableBeforeFirstByte_NamingTheAddress()
    {
        await using var client = new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()).CreateClient();
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var address = new Uri($"tcp://127.0.0.1:{port}");

        var error = await Assert.ThrowsAsync<PlexusException>(() => Echo.CallAsync(client, address, Echo.Request((new EndpointAddress("a", "b", "c"), InstanceId.NewId()), [1])));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains(address.Authority, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultAdvertisedHost_IsTheBoundAddress_OrARealOneForWildcards()
    {
        Assert.Equal("10.1.2.3", TcpEndpoints.DefaultAdvertisedHost(System.Net.IPAddress.Parse("10.1.2.3")));
        var any = TcpEndpoints.DefaultAdvertisedHost(System.Net.IPAddress.Any);
        Assert.NotEqual("0.0.0.0", any);
        Assert.True(System.Net.IPAddress.TryParse(any, out _));
        Assert.Equal("tcp://[::1]:7400/?tls=true", TcpEndpoints.Format("::1", 7400, tls: true).ToString());
    }

    [Fact]
    public void DurationSettings_TakeAUnit_AndABareNumberIsRefusedNamingTheKey()
    {
        using var good = BuildServices(new()
        {
            ["Plexus:Transports:Tcp:KeepAliveInterval"] = "2s",
            ["Plexus:Transports:Tcp:KeepAliveTimeout"] = "1m",
            ["Plexus:Transports:Tcp:HandshakeTimeout"] = "1500ms",
            ["Plexus:Transports:Tcp:ConnectTimeout"] = "00:00:03",
        });
        var options = good.GetRequiredService<IOptions<TcpTransportOptions>>().Value;
        Assert.Equal(
            (TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(3)),
            (options.KeepAliveInterval, options.KeepAliveTimeout, options.HandshakeTimeout, options.ConnectTimeout));

        using var bad = BuildServices(new() { ["Plexus:Transports:Tcp:KeepAliveInterval"] = "5" });
        var error = Assert.Throws<InvalidOperationException>(() => bad.GetRequiredService<IOptions<TcpTransportOptions>>().Value);
        Assert.Contains("Plexus:Transports:Tcp:KeepAliveInterval", error.Message, StringComparison.Ordinal);
        Assert.Contains("has no unit", error.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task StartingOnAnAddressInUse_FailsAsAnOptionsValidationNamingBindItsValueAndTheCause()
    {
        using var holder = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        holder.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        holder.Listen();
        var bind = $"127.0.0.1:{((System.Net.IPEndPoint)holder.LocalEndPoint!).Port}";
        await using var server = new TcpTransportFactory(TestOptions.Loopback(bind), TestCodecs.TwoPart()).CreateServer();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => server.StartAsync(CancellationToken.None).AsTask());

        var failure = Assert.Single(error.Failures);
        Assert.Contains($"Plexus:Transports:Tcp:Bind is '{bind}'", failure, StringComparison.Ordinal);
        Assert.Contains("in use", failure, StringComparison.Ordinal);
    }

    private static ServiceProvider BuildServices(Dictionary<string, string?> settings)
    {
        // The host registers the duration converter as it loads; the tests stand in for the host.
        PlexusDurationConverter.Register();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IFrameCodecs>(TestCodecs.TwoPart());
        new TcpPlugin().ConfigureServices(services, configuration);
        return services.BuildServiceProvider();
    }
}
