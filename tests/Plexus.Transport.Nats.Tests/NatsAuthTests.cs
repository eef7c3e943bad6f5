namespace Plexus.Transport.Nats.Tests;

/// <summary>Token, user/password and TLS against nats-server configured for each.</summary>
public sealed class NatsAuthTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 60_000)]
    public async Task Token_RightOneWorks_WrongOneIsAClearError()
    {
        await using var nats = await NatsServerProcess.StartAsync("authorization { token: \"s3cret-token\" }");

        await AssertEchoAsync(new NatsTransportOptions { Url = nats.Url.ToString(), Token = "s3cret-token" });
        await AssertEchoAsync(new NatsTransportOptions { Url = $"nats://s3cret-token@127.0.0.1:{nats.Port}" });
        await AssertRefusedAsync(new NatsTransportOptions { Url = nats.Url.ToString(), Token = "wrong" });
        await AssertRefusedAsync(new NatsTransportOptions { Url = nats.Url.ToString() });
    }

    [Fact(Timeout = 60_000)]
    public async Task UserAndPassword_RightOnesWork_WrongOnesAreAClearError()
    {
        await using var nats = await NatsServerProcess.StartAsync("authorization { user: alice, password: \"wonder land\" }");

        await AssertEchoAsync(new NatsTransportOptions { Url = nats.Url.ToString(), User = "alice", Password = "wonder land" });
        await AssertEchoAsync(new NatsTransportOptions { Url = $"nats://alice:wonder%20land@127.0.0.1:{nats.Port}" });
        await AssertRefusedAsync(new NatsTransportOptions { Url = nats.Url.ToString(), User = "alice", Password = "nope" });
    }

    [Fact(Timeout = 60_000)]
    public async Task Tls_ServerRequiresIt_ClientUpgradesAndVerifiesTheCertificate()
    {
        await using var nats = await NatsServerProcess.StartAsync(
            "tls { cert_file: \"server.pem\", key_file: \"server-key.pem\", timeout: 5 }",
            TestCertificates.Write);
        var ca = Path.Combine(nats.Directory, "ca.pem");

        // The server says tls_required; the client upgrades without being told to, and trusts the configured CA.
        await AssertEchoAsync(new NatsTransportOptions { Url = nats.Url.ToString(), Tls = new NatsTlsOptions { CaFile = ca } });
        await AssertEchoAsync(new NatsTransportOptions { Url = $"tls://127.0.0.1:{nats.Port}", Tls = new NatsTlsOptions { Enabled = true, CaFile = ca } });

        // Without the CA the certificate is not trusted: a TLS error, not a hang.
        var error = await StartFailsAsync(new NatsTransportOptions { Url = nats.Url.ToString(), ConnectTimeout = TimeSpan.FromSeconds(2) });
        Assert.Contains("certificate", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact(Timeout = 60_000)]
    public async Task Tls_AskedForButNotOffered_IsAClearError()
    {
        await using var nats = await NatsServerProcess.StartAsync();

        var error = await StartFailsAsync(new NatsTransportOptions { Url = nats.Url.ToString(), Tls = new NatsTlsOptions { Enabled = true }, ConnectTimeout = TimeSpan.FromSeconds(2) });

        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
    }

    private static async Task AssertEchoAsync(NatsTransportOptions options)
    {
        options.KeepAliveInterval = TimeSpan.FromMilliseconds(500);
        await using var harness = await TransportHarness.StartAsync(options);
        var endpoint = new EndpointAddress("tests", "auth", "echo");
        var instance = InstanceId.NewId();
        harness.Server.Register(endpoint, instance, new EchoHandler());

        Assert.Equal("secured"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "secured"u8.ToArray()))));
    }

    private static async Task AssertRefusedAsync(NatsTransportOptions options)
    {
        var error = await StartFailsAsync(options);

        Assert.Contains("Authorization Violation", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
    }

    private static async Task<PlexusException> StartFailsAsync(NatsTransportOptions options)
    {
        options.MaxReconnectAttempts = 0;
        var factory = new NatsTransportFactory(options, System.Buffers.ArrayPool<byte>.Shared);
        await using var server = factory.CreateServer();

        var error = await Assert.ThrowsAsync<PlexusException>(() => server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("could not connect", error.Message, StringComparison.Ordinal);
        return error;
    }
}
