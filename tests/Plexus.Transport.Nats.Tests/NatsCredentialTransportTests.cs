using System.Buffers;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// The transport's own credential options, <see cref="NatsTransportOptions.NKeyFile"/> and
/// <see cref="NatsTransportOptions.CredsFile"/>, against nats-server configured for nkey users and for operator (JWT)
/// mode: with the right credentials the server and the client both get in and a call round-trips; with wrong ones
/// the server's start fails with a message that says the credentials were refused.
/// </summary>
public sealed class NatsCredentialTransportTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 60_000)]
    public async Task NKeyFile_ServerAndClientAuthenticate_AndACallRoundTrips()
    {
        var user = NatsCredentials.CreateNKeyUser();
        string? seedFile = null;
        await using var nats = await NatsServerProcess.StartAsync(user.ServerConfig, directory => seedFile = user.WriteSeedFile(Path.Combine(directory, "user.nk")));

        await AssertRoundTripAsync(Options(nats, o => o.NKeyFile = seedFile!));

        // The server demands it: without the nkey the same start is refused.
        await AssertRefusedAsync(Options(nats));
    }

    [Fact(Timeout = 60_000)]
    public async Task NKeyFile_OfAUserTheServerDoesNotKnow_IsRefused_ForTheServerAndTheClient()
    {
        var user = NatsCredentials.CreateNKeyUser();
        var stranger = NatsCredentials.CreateNKeyUser();
        string? strangerFile = null;
        await using var nats = await NatsServerProcess.StartAsync(user.ServerConfig, directory => strangerFile = stranger.WriteSeedFile(Path.Combine(directory, "stranger.nk")));
        var options = Options(nats, o => o.NKeyFile = strangerFile!);

        await AssertRefusedAsync(options);

        // A client with the same options fails its call the same way, before anything is sent.
        await using var client = new NatsTransportFactory(options, ArrayPool<byte>.Shared).CreateClient();
        var address = new Uri($"nats://127.0.0.1:{nats.Port}/plexus/0123456789abcdef");
        var error = await Assert.ThrowsAsync<PlexusException>(() => client.SendAsync(address, TransportHarness.Request(new EndpointAddress("tests", "creds", "echo"), InstanceId.NewId(), "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("Authorization Violation", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Unhealthy, client.Health.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task CredsFile_ServerAndClientAuthenticate_AndACallRoundTrips()
    {
        var trust = NatsCredentials.CreateOperatorMode();
        var user = trust.CreateUser();
        string? credsFile = null;
        await using var nats = await NatsServerProcess.StartAsync(trust.ServerConfig, directory => credsFile = user.WriteCredsFile(Path.Combine(directory, "user.creds")));

        await AssertRoundTripAsync(Options(nats, o => o.CredsFile = credsFile!));

        // Operator mode admits nobody without a user JWT.
        await AssertRefusedAsync(Options(nats));
    }

    [Fact(Timeout = 60_000)]
    public async Task CredsFile_OfAnAccountTheServerDoesNotKnow_IsRefused()
    {
        var trust = NatsCredentials.CreateOperatorMode();
        var stranger = trust.CreateUserOfUnknownAccount();
        var user = trust.CreateUser();
        string? strangerFile = null, userFile = null;
        await using var nats = await NatsServerProcess.StartAsync(trust.ServerConfig, directory =>
        {
            strangerFile = stranger.WriteCredsFile(Path.Combine(directory, "stranger.creds"));
            userFile = user.WriteCredsFile(Path.Combine(directory, "user.creds"));
        });

        await AssertRefusedAsync(Options(nats, o => o.CredsFile = strangerFile!));

        // The refusal was about the account: a user of the preloaded one still gets in.
        await AssertRoundTripAsync(Options(nats, o => o.CredsFile = userFile!));
    }

    private static NatsTransportOptions Options(NatsServerProcess nats, Action<NatsTransportOptions>? change = null)
    {
        var options = new NatsTransportOptions { Url = nats.Url.ToString(), KeepAliveInterval = TimeSpan.FromMilliseconds(500) };
        change?.Invoke(options);
        return options;
    }

    // The harness starts the server (its connection authenticates) and calls it through its client (another
    // connection, with the same credentials).
    private static async Task AssertRoundTripAsync(NatsTransportOptions options)
    {
        await using var harness = await TransportHarness.StartAsync(options);
        var endpoint = new EndpointAddress("tests", "creds", "echo");
        var instance = InstanceId.NewId();
        harness.Server.Register(endpoint, instance, new EchoHandler());

        Assert.Equal("authenticated"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "authenticated"u8.ToArray()))));
        Assert.Equal(HealthStatus.Healthy, harness.Server.Health.Status);
        Assert.Equal(HealthStatus.Healthy, harness.Client.Health.Status);
    }

    private static async Task AssertRefusedAsync(NatsTransportOptions options)
    {
        // One attempt: a refused start must fail at once, not keep a connection retrying in the background.
        options.MaxReconnectAttempts = 0;
        await using var server = new NatsTransportFactory(options, ArrayPool<byte>.Shared).CreateServer();

        var error = await Assert.ThrowsAsync<PlexusException>(() => server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("Authorization Violation", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.Contains("NKeyFile or CredsFile", error.Message, StringComparison.Ordinal);
    }
}
