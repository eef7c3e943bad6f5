using System.Text;
using System.Text.Json;
using NatsAuthOpts = NATS.Client.Core.NatsAuthOpts;
using NatsException = NATS.Client.Core.NatsException;
using NatsOpts = NATS.Client.Core.NatsOpts;
using NatsServerException = NATS.Client.Core.NatsServerException;
using OfficialNatsConnection = NATS.Client.Core.NatsConnection;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// The nkey and JWT credentials of <see cref="NatsCredentials"/> against a real nats-server, with the official NATS
/// client (NATS.Client.Core) as the reference: what it accepts, nats-server accepts, and a round trip goes through.
/// </summary>
public sealed class NatsCredentialsTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 60_000)]
    public async Task NKey_TheConfiguredUserConnects_AndRoundTrips()
    {
        var user = NatsCredentials.CreateNKeyUser();
        string? seedFile = null;
        await using var nats = await NatsServerProcess.StartAsync(user.ServerConfig, directory => seedFile = user.WriteSeedFile(Path.Combine(directory, "user.nk")));

        AssertOwnerOnly(seedFile!);
        Assert.StartsWith("U", user.PublicKey, StringComparison.Ordinal);
        Assert.StartsWith("SU", user.Seed, StringComparison.Ordinal);

        await AssertRoundTripAsync(nats, new NatsAuthOpts { NKeyFile = seedFile });
        await AssertRoundTripAsync(nats, new NatsAuthOpts { Seed = user.Seed, NKey = user.PublicKey });
    }

    [Fact(Timeout = 60_000)]
    public async Task NKey_AnUnknownUserIsRefused()
    {
        var user = NatsCredentials.CreateNKeyUser();
        var stranger = NatsCredentials.CreateNKeyUser();
        await using var nats = await NatsServerProcess.StartAsync(user.ServerConfig);

        await AssertRefusedAsync(nats, new NatsAuthOpts { Seed = stranger.Seed, NKey = stranger.PublicKey });

        // The configuration must be what refused it, not the server refusing everyone.
        await AssertRoundTripAsync(nats, new NatsAuthOpts { Seed = user.Seed, NKey = user.PublicKey });
    }

    [Fact(Timeout = 60_000)]
    public async Task Creds_AUserOfThePreloadedAccountConnects_AndRoundTrips()
    {
        var trust = NatsCredentials.CreateOperatorMode();
        var user = trust.CreateUser();
        string? credsFile = null;
        await using var nats = await NatsServerProcess.StartAsync(trust.ServerConfig, directory => credsFile = user.WriteCredsFile(Path.Combine(directory, "user.creds")));

        AssertOwnerOnly(credsFile!);
        Assert.Equal(trust.AccountPublicKey, user.AccountPublicKey);

        await AssertRoundTripAsync(nats, new NatsAuthOpts { CredsFile = credsFile });
        await AssertRoundTripAsync(nats, new NatsAuthOpts { Jwt = user.Jwt, Seed = user.Seed });
    }

    [Fact(Timeout = 60_000)]
    public async Task Creds_AUserOfAnAccountTheServerDoesNotKnowIsRefused()
    {
        var trust = NatsCredentials.CreateOperatorMode();
        var stranger = trust.CreateUserOfUnknownAccount();
        var user = trust.CreateUser();
        string? strangerFile = null;
        await using var nats = await NatsServerProcess.StartAsync(trust.ServerConfig, directory => strangerFile = stranger.WriteCredsFile(Path.Combine(directory, "stranger.creds")));

        Assert.NotEqual(trust.AccountPublicKey, stranger.AccountPublicKey);
        await AssertRefusedAsync(nats, new NatsAuthOpts { CredsFile = strangerFile });

        // A user of the preloaded account still gets in: the refusal was about the account.
        await AssertRoundTripAsync(nats, new NatsAuthOpts { Jwt = user.Jwt, Seed = user.Seed });
    }

    // No timeout: xUnit takes one on async tests only, and this one does no I/O.
    [Fact]
    public void Jwt_TheIdAndClaimsAreWhatTheNatsToolsWrite()
    {
        // SHA-512/256 of "abc", FIPS 180-4's example.
        Assert.Equal("53048E2681941EF99B2E29B76B4C7DABE4C2D0C634FC6D46E0E2F13107E7AF23", Convert.ToHexString(Sha512Slash256.Hash("abc"u8)));

        // The claims and id of the user JWT in nats-server's server/configs/one.creds, which nsc wrote.
        Assert.Equal(
            "GECPTJHHMS3MCMKLTPGYGAO45GQ6N6QPYWQ4GPLAEB33VCRJNRVQ",
            NatsCredentials.JwtId(1616247232, "ABVRZKJ6Z7NIMPIYJRCHEYFRUO7ENN6NWOKQDFLFDFVPSM36UPX2UCPP", "one", "UDCIBGGGHCJBQPOO4SCJJBHZDR37NQGGCIWMNG2DDAKJ6WMKBMAKXIMO"));

        var user = NatsCredentials.CreateOperatorMode().CreateUser("one");
        var parts = user.Jwt.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Equal("""{"typ":"JWT","alg":"ed25519-nkey"}""", Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0])));
        using var claims = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
        var root = claims.RootElement;
        Assert.Equal(user.AccountPublicKey, root.GetProperty("iss").GetString());
        Assert.Equal(user.PublicKey, root.GetProperty("sub").GetString());
        Assert.Equal(
            NatsCredentials.JwtId(root.GetProperty("iat").GetInt64(), user.AccountPublicKey, "one", user.PublicKey),
            root.GetProperty("jti").GetString());
        Assert.Equal("""{"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1,"type":"user","version":2}""", root.GetProperty("nats").GetRawText());

        // The creds file is parsed by the blocks' dash lines; a changed line would leave the client without a JWT.
        Assert.StartsWith($"-----BEGIN NATS USER JWT-----\n{user.Jwt}\n------END NATS USER JWT------\n\n", user.Creds, StringComparison.Ordinal);
        Assert.Contains($"-----BEGIN USER NKEY SEED-----\n{user.Seed}\n------END USER NKEY SEED------\n", user.Creds, StringComparison.Ordinal);
    }

    private static async Task AssertRoundTripAsync(NatsServerProcess nats, NatsAuthOpts auth)
    {
        await using var connection = new OfficialNatsConnection(new NatsOpts { Url = nats.Url.ToString(), AuthOpts = auth });
        await connection.ConnectAsync().AsTask().WaitAsync(Step);

        // Subscribed and flushed (a ping answered after the SUB) before publishing, so the message cannot be missed.
        var subject = $"plexus.auth.{Guid.NewGuid():N}";
        await using var subscription = await connection.SubscribeCoreAsync<string>(subject).AsTask().WaitAsync(Step);
        await connection.PingAsync().AsTask().WaitAsync(Step);
        await connection.PublishAsync(subject, "authenticated").AsTask().WaitAsync(Step);

        var message = await subscription.Msgs.ReadAsync().AsTask().WaitAsync(Step);
        Assert.Equal("authenticated", message.Data);
    }

    private static async Task AssertRefusedAsync(NatsServerProcess nats, NatsAuthOpts auth)
    {
        await using var connection = new OfficialNatsConnection(new NatsOpts { Url = nats.Url.ToString(), AuthOpts = auth });

        // A prompt refusal, not a timeout: the client wraps the server's -ERR in its "can not start to connect".
        var error = await Assert.ThrowsAsync<NatsException>(() => connection.ConnectAsync().AsTask().WaitAsync(Step));
        var refusal = Assert.IsType<NatsServerException>(error.InnerException);
        Assert.Contains("Authorization Violation", refusal.Message, StringComparison.Ordinal);
    }

    private static void AssertOwnerOnly(string path)
    {
        // Secret files are the owner's only, as the NATS tools leave them.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }
}
