using System.Text.Json;
using NATS.Client.Services;
using Xunit.Abstractions;
using NatsCore = NATS.Client.Core;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// The nats.js harness (<see cref="NodeNatsClient"/>) against a real nats-server and the reference .NET client
/// (NATS.Client.Core, NATS.Client.Services): before tests trust what nats.js says about Plexus, it must say the right
/// things about implementations that are known to be right.
/// </summary>
public sealed class NodeNatsClientTests(ITestOutputHelper output)
{
    // Long enough for the first test of a run to install the npm package (npm ci) before its call.
    private const int TestTimeout = 180_000;

    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    [Fact(Timeout = TestTimeout)]
    public async Task Request_ReferenceResponder_PayloadAndHeadersRoundTrip()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        await using var connection = new NatsCore.NatsConnection(new NatsCore.NatsOpts { Url = nats.Url.ToString() });
        await connection.ConnectAsync();
        var subscription = await connection.SubscribeCoreAsync<byte[]>("tests.natsjs.echo");
        var responder = Task.Run(async () =>
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync())
            {
                var headers = new NatsCore.NatsHeaders
                {
                    ["echo-trace"] = message.Headers?["trace"].ToString() ?? "(none)",
                    ["responder"] = new(["NATS.Client.Core", "3.3.2"]),
                };
                await message.ReplyAsync(message.Data, headers);
            }
        });

        // The PONG means the server has the subscription: node's request cannot overtake it and find no responders.
        await connection.PingAsync();

        // Every byte value, so base64 on both sides of the harness is checked, not just ASCII.
        var payload = Enumerable.Range(0, 256).Select(value => (byte)value).ToArray();
        var reply = await NodeNatsClient.RequestAsync(nats.Url, "tests.natsjs.echo", payload, new Dictionary<string, string> { ["trace"] = "t-42" }, Step);

        Assert.True(reply.Ok, reply.ToString());
        Assert.Equal(payload, reply.Payload);
        Assert.NotNull(reply.Headers);
        Assert.Equal(["t-42"], reply.Headers["echo-trace"]);
        Assert.Equal(["NATS.Client.Core", "3.3.2"], reply.Headers["responder"]);
        Assert.Null(reply.StatusCode);

        await subscription.UnsubscribeAsync();
        await responder.WaitAsync(Step);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Request_NobodyServesTheSubject_IsNoResponders()
    {
        await using var nats = await NatsServerProcess.StartAsync();

        var reply = await NodeNatsClient.RequestAsync(nats.Url, "tests.natsjs.nobody", "anyone?"u8.ToArray(), null, Step);

        // 503 from the server at once, not nats.js's TIMEOUT after the whole wait.
        Assert.False(reply.Ok);
        Assert.Equal("503", reply.ErrorCode);
        Assert.Empty(reply.Payload);
        Assert.Null(reply.Headers);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Credentials_RightTokenConnects_WrongOneIsAnAuthorizationError()
    {
        await using var nats = await NatsServerProcess.StartAsync("authorization { token: \"s3cret-token\" }");

        // Connected (the server answers that nobody serves the subject) with the token, refused without it.
        var right = await NodeNatsClient.RequestAsync(nats.Url, "tests.natsjs.nobody", [], null, Step, new NodeNatsCredentials(Token: "s3cret-token"));
        var wrong = await NodeNatsClient.RequestAsync(nats.Url, "tests.natsjs.nobody", [], null, Step, new NodeNatsCredentials(Token: "wrong"));

        Assert.Equal("503", right.ErrorCode);
        Assert.Equal("AUTHORIZATION_VIOLATION", wrong.ErrorCode);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Harness_BadCommand_FailsWithNodesStderr()
    {
        await using var nats = await NatsServerProcess.StartAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => NodeNatsClient.ServicesAsync(nats.Url, "restart", null, null, Step));

        Assert.Contains("node's stderr", error.Message, StringComparison.Ordinal);
        Assert.Contains("'verb' must be ping, info or stats", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Services_ReferenceService_SeenByPingInfoAndStats()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        await using var connection = new NatsCore.NatsConnection(new NatsCore.NatsOpts { Url = nats.Url.ToString() });
        await connection.ConnectAsync();
        var services = new NatsSvcContext(connection);
        await using var service = await services.AddServiceAsync(new NatsSvcConfig("plexus-reference", "1.2.3") { Description = "NATS.Client.Services, for the nats.js harness" });
        await service.AddEndpointAsync<byte[]>(message => message.ReplyAsync(message.Data), name: "echo", subject: "tests.reference.echo");
        await service.AddEndpointAsync<byte[]>(message => message.ReplyAsync("unused"u8.ToArray()), name: "idle");
        await connection.PingAsync();

        var ping = Assert.Single(await NodeNatsClient.ServicesAsync(nats.Url, "ping", null, null, Step));
        Print("ping", ping);
        Assert.Equal("io.nats.micro.v1.ping_response", ping.GetProperty("type").GetString());
        Assert.Equal("plexus-reference", ping.GetProperty("name").GetString());
        Assert.Equal("1.2.3", ping.GetProperty("version").GetString());
        var id = ping.GetProperty("id").GetString();
        Assert.False(string.IsNullOrEmpty(id));

        var info = Assert.Single(await NodeNatsClient.ServicesAsync(nats.Url, "info", "plexus-reference", null, Step));
        Print("info", info);
        Assert.Equal("io.nats.micro.v1.info_response", info.GetProperty("type").GetString());
        Assert.Equal(id, info.GetProperty("id").GetString());
        Assert.Equal("NATS.Client.Services, for the nats.js harness", info.GetProperty("description").GetString());
        var subjects = info.GetProperty("endpoints").EnumerateArray()
            .ToDictionary(endpoint => endpoint.GetProperty("name").GetString()!, endpoint => endpoint.GetProperty("subject").GetString());
        Assert.Equal("tests.reference.echo", subjects["echo"]);
        Assert.Equal("idle", subjects["idle"]);

        var call = await NodeNatsClient.RequestAsync(nats.Url, "tests.reference.echo", "counted"u8.ToArray(), null, Step);
        Assert.True(call.Ok, call.ToString());
        Assert.Equal("counted"u8.ToArray(), call.Payload);

        var stats = Assert.Single(await NodeNatsClient.ServicesAsync(nats.Url, "stats", "plexus-reference", id, Step));
        Print("stats", stats);
        Assert.Equal("io.nats.micro.v1.stats_response", stats.GetProperty("type").GetString());
        var requests = stats.GetProperty("endpoints").EnumerateArray()
            .ToDictionary(endpoint => endpoint.GetProperty("name").GetString()!, endpoint => endpoint.GetProperty("num_requests").GetInt64());
        Assert.Equal(1, requests["echo"]);
        Assert.Equal(0, requests["idle"]);

        // The name filter is applied: nobody answers for another name.
        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => NodeNatsClient.ServicesAsync(nats.Url, "ping", "no-such-service", null, Step));
        Assert.Contains("503", none.Message, StringComparison.Ordinal);
    }

    private void Print(string verb, JsonElement response) =>
        output.WriteLine($"{verb}: {JsonSerializer.Serialize(response, Indented)}");
}
