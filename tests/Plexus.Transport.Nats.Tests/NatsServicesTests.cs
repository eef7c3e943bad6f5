using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;
using Xunit.Abstractions;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// Every endpoint a server serves is an endpoint of a NATS service (the NATS services API, "micro" v1): one service per
/// component, named <c>&lt;namespace&gt;_&lt;component&gt;</c>, whose id is the server id, answering <c>$SRV.PING</c>,
/// <c>$SRV.INFO</c> and <c>$SRV.STATS</c> with and without its name and id. Checked field by field with raw JSON
/// through NATS.Client.Core, and with the official JavaScript services client, the reference consumer that
/// <c>nats micro</c>-style tooling stands for.
/// </summary>
public sealed class NatsServicesTests(NatsServerFixture nats, ITestOutputHelper output) : IClassFixture<NatsServerFixture>
{
    private static readonly string[] Verbs = ["PING", "INFO", "STATS"];

    // Long enough for a first nats.js use in the run to install its npm package.
    private const int NodeTestTimeout = 180_000;

    private static TimeSpan Step => TransportHarness.Step;

    // How long a poll waits for an answer before asking again: what it waits for may not be there yet.
    private static TimeSpan Poll => TimeSpan.FromMilliseconds(500);

    [Fact(Timeout = 60_000)]
    public async Task PingInfoAndStats_AnswerOnEverySubjectForm_WithTheServicesFields()
    {
        var tag = Tag();
        await using var harness = await TransportHarness.StartAsync(Options(o =>
        {
            o.SubjectPrefix = "acme.plexus";
            o.QueueGroup = "workers";
            o.ServiceVersion = "1.4.2";
        }));
        var server = (NatsServer)harness.Server;

        // Dots in every segment: service and endpoint names cannot carry them ('-'), nor can subject tokens ('~').
        var echo = new EndpointAddress("tests.svc", $"info.{tag}", "echo.v2");
        var other = new EndpointAddress("tests.svc", $"info.{tag}", "other");
        var second = new EndpointAddress("tests.svc", $"second{tag}", "x");
        var (echoInstance, otherInstance, secondInstance) = (InstanceId.NewId(), InstanceId.NewId(), InstanceId.NewId());
        server.Register(echo, echoInstance, new EchoHandler());
        server.Register(other, otherInstance, new EchoHandler());
        server.Register(second, secondInstance, new EchoHandler());
        var name = $"tests-svc_info-{tag}";
        var secondName = $"tests-svc_second{tag}";
        await using var connection = await ConnectAsync();
        await WaitForEndpointsAsync(connection, name, "echo-v2", "other");
        await WaitForEndpointsAsync(connection, secondName, "x");

        foreach (var verb in Verbs)
        {
            // Without a name every service of the server answers, each in its own message; with a name only that
            // one; with its id as well only that instance.
            var all = await AskAsync(connection, $"$SRV.{verb}", expected: 2);
            Assert.Equal([name, secondName], all.Select(response => response.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
            var byName = Assert.Single(await AskAsync(connection, $"$SRV.{verb}.{name}"));
            var byId = Assert.Single(await AskAsync(connection, $"$SRV.{verb}.{name}.{server.ServerId}"));
            foreach (var response in new[] { all.Single(r => r.GetProperty("name").GetString() == name), byName, byId })
            {
                output.WriteLine($"{verb}: {response.GetRawText()}");
                AssertService(response, verb, name, server.ServerId, "1.4.2", echo, server.Address);
            }

            Assert.Equal("tests.svc", all.Single(r => r.GetProperty("name").GetString() == secondName).GetProperty("metadata").GetProperty("plexus.namespace").GetString());
        }

        // INFO: each endpoint with its queue subject and group, and what a Plexus client would use.
        var info = Assert.Single(await AskAsync(connection, $"$SRV.INFO.{name}.{server.ServerId}"));
        var endpoints = Endpoints(info);
        Assert.Equal(["echo-v2", "other"], endpoints.Keys.Order(StringComparer.Ordinal));
        var described = endpoints["echo-v2"];
        Assert.Equal($"acme.plexus.tests~svc.info~{tag}.echo~v2", described.GetProperty("subject").GetString());
        Assert.Equal("workers", described.GetProperty("queue_group").GetString());
        var metadata = described.GetProperty("metadata");
        Assert.Equal($"tests.svc/info.{tag}/echo.v2", metadata.GetProperty("plexus.endpoint").GetString());
        Assert.Equal(echoInstance.ToString(), metadata.GetProperty("plexus.instance").GetString());
        Assert.Equal($"acme.plexus.tests~svc.info~{tag}.echo~v2.{echoInstance}.{server.ServerId}", metadata.GetProperty("plexus.subject").GetString());
        Assert.Equal(otherInstance.ToString(), endpoints["other"].GetProperty("metadata").GetProperty("plexus.instance").GetString());
        Assert.Equal($"acme.plexus.tests~svc.info~{tag}.other", endpoints["other"].GetProperty("subject").GetString());

        // STATS before any request: every endpoint, all zero.
        var stats = Endpoints(Assert.Single(await AskAsync(connection, $"$SRV.STATS.{name}")));
        Assert.Equal(["echo-v2", "other"], stats.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, stats["echo-v2"].GetProperty("num_requests").GetInt64());
        Assert.Equal("workers", stats["echo-v2"].GetProperty("queue_group").GetString());
        Assert.Equal($"acme.plexus.tests~svc.info~{tag}.echo~v2", stats["echo-v2"].GetProperty("subject").GetString());

        // The subject INFO announces is one a plain NATS caller gets an answer on.
        var reply = await connection.RequestAsync<byte[], byte[]>(described.GetProperty("subject").GetString()!, "via info"u8.ToArray()).AsTask().WaitAsync(Step);
        Assert.Equal("via info", Encoding.UTF8.GetString(reply.Data ?? []));

        // The id filter is applied by the subject itself: another id has nobody subscribed, so NATS says no responders.
        Assert.Null(await AskOrNoRespondersAsync(connection, $"$SRV.PING.{name}.{InstanceId.NewId()}"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Stats_CountPlexusAndPlainCalls_TheirErrors_TimeAndTheLastError()
    {
        var tag = Tag();
        var before = DateTimeOffset.UtcNow;
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests", $"stats{tag}", "work");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new SometimesFailingHandler($"boom {tag}", TimeSpan.FromMilliseconds(20)));
        var name = $"tests_stats{tag}";
        await using var connection = await ConnectAsync();
        await WaitForEndpointsAsync(connection, name, "work");

        const int Succeeding = 5, Failing = 3;
        for (var i = 0; i < Succeeding; i++)
        {
            Assert.Equal("fine"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "fine"u8.ToArray()))));
        }

        for (var i = 0; i < Failing; i++)
        {
            var error = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(TransportHarness.Request(endpoint, instance, "fail"u8.ToArray())));
            Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
        }

        // A request is counted once its end is sent, which is just after its caller may have seen it: wait for the
        // count, then require it exactly (a request counted twice would overshoot).
        var stats = await WaitForStatsAsync(connection, $"$SRV.STATS.{name}.{server.ServerId}", "work", Succeeding + Failing);
        output.WriteLine(stats.GetRawText());
        Assert.Equal(Succeeding + Failing, stats.GetProperty("num_requests").GetInt64());
        Assert.Equal(Failing, stats.GetProperty("num_errors").GetInt64());
        var lastError = stats.GetProperty("last_error").GetString();
        Assert.Contains($"boom {tag}", lastError, StringComparison.Ordinal);
        Assert.StartsWith(nameof(PlexusErrorCode.HandlerError), lastError, StringComparison.Ordinal);

        // Nanoseconds: the five successful calls took at least 20 ms each in their handler, 1e8 ns in all; in
        // microseconds or milliseconds the figure would be 1000 times smaller or less. And less than a minute.
        var processing = stats.GetProperty("processing_time").GetInt64();
        Assert.InRange(processing, Succeeding * 20_000_000L, 60_000_000_000L);
        Assert.Equal(processing / (Succeeding + Failing), stats.GetProperty("average_processing_time").GetInt64());

        // Plain NATS callers on the queue subject are counted too, their failures as errors.
        var queue = NatsAddress.EndpointSubject("plexus", endpoint);
        for (var i = 0; i < 2; i++)
        {
            var fine = await connection.RequestAsync<byte[], byte[]>(queue, "fine"u8.ToArray()).AsTask().WaitAsync(Step);
            Assert.Equal("fine", Encoding.UTF8.GetString(fine.Data ?? []));
        }

        var failed = await connection.RequestAsync<byte[], byte[]>(queue, "fail"u8.ToArray()).AsTask().WaitAsync(Step);
        Assert.Equal("500", failed.Headers?[NatsServiceErrors.CodeHeader].ToString());

        var response = await WaitForStatsResponseAsync(connection, $"$SRV.STATS.{name}", "work", Succeeding + Failing + 3);
        stats = Endpoints(response)["work"];
        Assert.Equal(Succeeding + Failing + 3, stats.GetProperty("num_requests").GetInt64());
        Assert.Equal(Failing + 1, stats.GetProperty("num_errors").GetInt64());
        Assert.True(stats.GetProperty("processing_time").GetInt64() > processing, "The plain calls added no processing time.");

        // Started: a UTC timestamp, when the server was created.
        var started = response.GetProperty("started").GetString()!;
        Assert.EndsWith("Z", started, StringComparison.Ordinal);
        var parsed = DateTimeOffset.Parse(started, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.Equal(TimeSpan.Zero, parsed.Offset);
        Assert.InRange(parsed, before.AddSeconds(-1), DateTimeOffset.UtcNow);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServicesFollowTheDispatcher_NewEndpointsAppear_DroppedOnesGo_AnEmptyServiceStopsAnswering()
    {
        var tag = Tag();
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var name = $"tests_follow{tag}";
        var first = new EndpointAddress("tests", $"follow{tag}", "first");
        var second = new EndpointAddress("tests", $"follow{tag}", "second");
        await using var connection = await ConnectAsync();

        // Registered after the server started: the services catch up.
        server.Register(first, InstanceId.NewId(), new EchoHandler());
        server.Register(second, InstanceId.NewId(), new EchoHandler());
        await WaitForEndpointsAsync(connection, name, "first", "second");
        var queue = NatsAddress.EndpointSubject("plexus", first);
        Assert.Equal("q", Endpoints(Assert.Single(await AskAsync(connection, $"$SRV.INFO.{name}")))["first"].GetProperty("queue_group").GetString());
        var served = await connection.RequestAsync<byte[], byte[]>(queue, "served"u8.ToArray()).AsTask().WaitAsync(Step);
        Assert.Equal("served", Encoding.UTF8.GetString(served.Data ?? []));

        // Unregistered through the server's dispatcher: gone from INFO and STATS, and its queue subject is dropped.
        Assert.True(server.Unregister(first));
        await WaitForEndpointsAsync(connection, name, "second");
        Assert.Equal(["second"], Endpoints(Assert.Single(await AskAsync(connection, $"$SRV.STATS.{name}"))).Keys);
        await WaitUntilAsync(async () => await PlainNoRespondersAsync(connection, queue), $"{queue} still has a subscriber after its endpoint was dropped.");

        // The last endpoint of the component goes: the service is gone, its subjects have no subscriber at all.
        Assert.True(server.Dispatcher().Unregister(second));
        await WaitForNoRespondersAsync(connection, $"$SRV.PING.{name}");
        await WaitForNoRespondersAsync(connection, $"$SRV.INFO.{name}.{server.ServerId}");
        await WaitForNoRespondersAsync(connection, $"$SRV.STATS.{name}.{server.ServerId}");
        Assert.DoesNotContain(await AskAsync(connection, "$SRV.PING", expected: 0), response => response.GetProperty("name").GetString() == name);

        // And comes back with the next endpoint of the component.
        server.Register(new EndpointAddress("tests", $"follow{tag}", "third"), InstanceId.NewId(), new EchoHandler());
        await WaitForEndpointsAsync(connection, name, "third");
    }

    [Fact(Timeout = 60_000)]
    public async Task EndpointsServedAtStart_AreServicesAsSoonAsStartReturns()
    {
        var tag = Tag();
        await using var connection = await ConnectAsync();
        await using var server = (NatsServer)new NatsTransportFactory(Options(), ArrayPool<byte>.Shared).CreateServer();
        var endpoint = new EndpointAddress("tests", $"early{tag}", "echo");
        server.Register(endpoint, InstanceId.NewId(), new EchoHandler());

        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step);

        // No waiting: start returns once nats-server has the services' and the queue's subscriptions.
        var info = Assert.Single(await AskAsync(connection, $"$SRV.INFO.tests_early{tag}"));
        Assert.Equal(["echo"], Endpoints(info).Keys);
        var reply = await connection.RequestAsync<byte[], byte[]>(NatsAddress.EndpointSubject("plexus", endpoint), "early"u8.ToArray()).AsTask().WaitAsync(Step);
        Assert.Equal("early", Encoding.UTF8.GetString(reply.Data ?? []));
    }

    [Fact(Timeout = 60_000)]
    public async Task TwoServersOfOneComponent_AreTwoInstancesOfOneService()
    {
        var tag = Tag();
        await using var one = await TransportHarness.StartAsync(Options(o => o.ServiceVersion = "3.0.0"));
        await using var two = await TransportHarness.StartAsync(Options(o => o.ServiceVersion = "3.0.0"));
        var endpoint = new EndpointAddress("tests", $"twice{tag}", "echo");
        var (firstInstance, secondInstance) = (InstanceId.NewId(), InstanceId.NewId());
        one.Server.Register(endpoint, firstInstance, new EchoHandler());
        two.Server.Register(endpoint, secondInstance, new EchoHandler());
        var (firstId, secondId) = (((NatsServer)one.Server).ServerId, ((NatsServer)two.Server).ServerId);
        var name = $"tests_twice{tag}";
        await using var connection = await ConnectAsync();

        List<JsonElement> pings = [];
        await WaitUntilAsync(async () => (pings = await AskAsync(connection, $"$SRV.PING.{name}", expected: 2, Poll)).Count == 2, $"$SRV.PING.{name} did not get two answers.");

        Assert.NotEqual(firstId, secondId);
        Assert.Equal(new[] { firstId, secondId }.Order(StringComparer.Ordinal), pings.Select(ping => ping.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(pings, ping => Assert.Equal(name, ping.GetProperty("name").GetString()));

        // The same for the bare $SRV.PING that discovery tools send: one answer per process.
        var everyone = (await AskAsync(connection, "$SRV.PING", expected: 2)).Where(ping => ping.GetProperty("name").GetString() == name);
        Assert.Equal(new[] { firstId, secondId }.Order(StringComparer.Ordinal), everyone.Select(ping => ping.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));

        // Each instance answers for itself, with its own address and instance id.
        var info = Assert.Single(await AskAsync(connection, $"$SRV.INFO.{name}.{secondId}"));
        Assert.Equal(secondId, info.GetProperty("id").GetString());
        Assert.Equal(two.Server.Address.ToString(), info.GetProperty("metadata").GetProperty("plexus.address").GetString());
        var described = Endpoints(info)["echo"].GetProperty("metadata");
        Assert.Equal(secondInstance.ToString(), described.GetProperty("plexus.instance").GetString());
        Assert.EndsWith($".{secondInstance}.{secondId}", described.GetProperty("plexus.subject").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Version_WithoutTheOption_IsTheEntryAssemblysVersion()
    {
        var tag = Tag();
        await using var harness = await TransportHarness.StartAsync(Options());
        harness.Server.Register(new EndpointAddress("tests", $"version{tag}", "x"), InstanceId.NewId(), new EchoHandler());
        await using var connection = await ConnectAsync();
        await WaitForEndpointsAsync(connection, $"tests_version{tag}", "x");

        var version = Assert.Single(await AskAsync(connection, $"$SRV.PING.tests_version{tag}")).GetProperty("version").GetString()!;

        // The test host's version, as SemVer: its informational version when that is SemVer, else major.minor.build.
        var entry = Assembly.GetEntryAssembly()!;
        var informational = entry.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var numbers = entry.GetName().Version!;
        output.WriteLine($"entry assembly {entry.GetName().Name}: version {numbers}, informational {informational}; announced {version}");
        Assert.True(NatsServiceNames.IsSemVer(version), $"'{version}' is not SemVer.");
        Assert.True(
            version == informational || version == $"{numbers.Major}.{numbers.Minor}.{Math.Max(0, numbers.Build)}",
            $"'{version}' is neither the entry assembly's informational version '{informational}' nor its version {numbers}.");
    }

    [Fact(Timeout = NodeTestTimeout)]
    public async Task NatsJsServicesClient_SeesPingInfoAndStats()
    {
        var tag = Tag();
        await using var harness = await TransportHarness.StartAsync(Options(o => o.ServiceVersion = "2.0.1"));
        var server = (NatsServer)harness.Server;
        var endpoint = new EndpointAddress("tests.js", $"micro{tag}", "work");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new SometimesFailingHandler($"js boom {tag}", TimeSpan.Zero));
        var name = $"tests-js_micro{tag}";
        await using (var connection = await ConnectAsync())
        {
            await WaitForEndpointsAsync(connection, name, "work");
        }

        Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, "fine"u8.ToArray())));
        await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(TransportHarness.Request(endpoint, instance, "fail"u8.ToArray())));

        // Every service on the server, then by name: nats.js decodes and returns each response as received.
        var pings = await NodeNatsClient.ServicesAsync(nats.Server.Url, "ping", null, null, TimeSpan.FromSeconds(2));
        var ping = Assert.Single(pings, response => response.GetProperty("name").GetString() == name);
        AssertService(ping, "PING", name, server.ServerId, "2.0.1", endpoint, server.Address);

        var info = Assert.Single(await NodeNatsClient.ServicesAsync(nats.Server.Url, "info", name, null, TimeSpan.FromSeconds(2)));
        AssertService(info, "INFO", name, server.ServerId, "2.0.1", endpoint, server.Address);
        var described = Assert.Single(info.GetProperty("endpoints").EnumerateArray());
        Assert.Equal("work", described.GetProperty("name").GetString());
        Assert.Equal($"plexus.tests~js.micro{tag}.work", described.GetProperty("subject").GetString());
        Assert.Equal("q", described.GetProperty("queue_group").GetString());
        Assert.Equal(instance.ToString(), described.GetProperty("metadata").GetProperty("plexus.instance").GetString());

        // nats.js's stats for one instance: the same counts the .NET client reads, once both calls are counted.
        JsonElement stats = default;
        await WaitUntilAsync(
            async () =>
            {
                stats = Assert.Single(await NodeNatsClient.ServicesAsync(nats.Server.Url, "stats", name, server.ServerId, TimeSpan.FromSeconds(2)));
                return Assert.Single(stats.GetProperty("endpoints").EnumerateArray()).GetProperty("num_requests").GetInt64() >= 2;
            },
            "nats.js did not see both requests counted.");
        output.WriteLine(stats.GetRawText());
        AssertService(stats, "STATS", name, server.ServerId, "2.0.1", endpoint, server.Address);
        var counted = Assert.Single(stats.GetProperty("endpoints").EnumerateArray());
        Assert.Equal(2, counted.GetProperty("num_requests").GetInt64());
        Assert.Equal(1, counted.GetProperty("num_errors").GetInt64());
        Assert.Contains($"js boom {tag}", counted.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.True(counted.GetProperty("processing_time").GetInt64() > 0);
        Assert.Equal(DateTimeKind.Utc, DateTime.Parse(stats.GetProperty("started").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).Kind);

        // An instance id nobody has: nats.js's services client reports that no service answered.
        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => NodeNatsClient.ServicesAsync(nats.Server.Url, "ping", name, InstanceId.NewId().ToString(), TimeSpan.FromSeconds(2)));
        Assert.Contains("503", none.Message, StringComparison.Ordinal);
    }

    // Fields every response carries, and the type its verb gives it.
    private static void AssertService(JsonElement response, string verb, string name, string id, string version, EndpointAddress endpoint, Uri address)
    {
        Assert.Equal($"io.nats.micro.v1.{verb.ToLowerInvariant()}_response", response.GetProperty("type").GetString());
        Assert.Equal(name, response.GetProperty("name").GetString());
        Assert.Equal(id, response.GetProperty("id").GetString());
        Assert.Equal(version, response.GetProperty("version").GetString());
        var metadata = response.GetProperty("metadata");
        Assert.Equal(endpoint.Namespace, metadata.GetProperty("plexus.namespace").GetString());
        Assert.Equal(endpoint.Component, metadata.GetProperty("plexus.component").GetString());
        Assert.Equal(address.ToString(), metadata.GetProperty("plexus.address").GetString());
    }

    private static Dictionary<string, JsonElement> Endpoints(JsonElement response) =>
        response.GetProperty("endpoints").EnumerateArray().ToDictionary(endpoint => endpoint.GetProperty("name").GetString()!, StringComparer.Ordinal);

    // The answers to a $SRV request: those expected within a step (a first answer may take a while, with everything
    // still to be compiled), then any more within a moment (the answers of one nats-server come together); no
    // responders is an empty list.
    private static async Task<List<JsonElement>> AskAsync(NatsConnection connection, string subject, int expected = 1, TimeSpan? patience = null) =>
        await AskOrNoRespondersAsync(connection, subject, expected, patience) ?? [];

    // The same, but null when nobody subscribes the subject (NATS's no-responders status).
    private static async Task<List<JsonElement>?> AskOrNoRespondersAsync(NatsConnection connection, string subject, int expected = 1, TimeSpan? patience = null)
    {
        // A hand-made request: the subscription is at nats-server before the request, as it goes first on the connection.
        var inbox = connection.NewInbox();
        await using var replies = await connection.SubscribeCoreAsync<byte[]>(inbox);
        await connection.PublishAsync(subject, Array.Empty<byte>(), replyTo: inbox);
        var responses = new List<JsonElement>();
        while (true)
        {
            NatsMsg<byte[]> reply;
            try
            {
                reply = await replies.Msgs.ReadAsync().AsTask().WaitAsync(responses.Count < expected ? patience ?? Step : TimeSpan.FromMilliseconds(150));
            }
            catch (TimeoutException)
            {
                return responses;
            }

            if (reply.HasNoResponders)
            {
                return null;
            }

            using var json = JsonDocument.Parse(reply.Data ?? []);
            responses.Add(json.RootElement.Clone());
        }
    }

    private static async Task<bool> PlainNoRespondersAsync(NatsConnection connection, string subject)
    {
        try
        {
            await connection.RequestAsync<byte[], byte[]>(subject, "anyone?"u8.ToArray()).AsTask().WaitAsync(Step);
            return false;
        }
        catch (NatsNoRespondersException)
        {
            return true;
        }
    }

    // Waits until the service's INFO lists exactly these endpoints (the services follow the dispatcher's changes
    // asynchronously).
    private static Task WaitForEndpointsAsync(NatsConnection connection, string name, params string[] endpoints) =>
        WaitUntilAsync(
            async () => await AskOrNoRespondersAsync(connection, $"$SRV.INFO.{name}", patience: Poll) is [var info]
                && Endpoints(info).Keys.Order(StringComparer.Ordinal).SequenceEqual(endpoints.Order(StringComparer.Ordinal)),
            $"$SRV.INFO.{name} did not list exactly {string.Join(", ", endpoints)}.");

    // Waits until nobody subscribes the subject any more (a service's subjects go one by one).
    private static Task WaitForNoRespondersAsync(NatsConnection connection, string subject) =>
        WaitUntilAsync(async () => await AskOrNoRespondersAsync(connection, subject, expected: 0) is null, $"{subject} is still subscribed.");

    private static async Task<JsonElement> WaitForStatsAsync(NatsConnection connection, string subject, string endpoint, long requests) =>
        Endpoints(await WaitForStatsResponseAsync(connection, subject, endpoint, requests))[endpoint];

    private static async Task<JsonElement> WaitForStatsResponseAsync(NatsConnection connection, string subject, string endpoint, long requests)
    {
        JsonElement response = default;
        await WaitUntilAsync(
            async () => await AskOrNoRespondersAsync(connection, subject, patience: Poll) is [var stats]
                && (response = stats).ValueKind == JsonValueKind.Object
                && Endpoints(stats)[endpoint].GetProperty("num_requests").GetInt64() >= requests,
            $"{subject} did not count {requests} requests of {endpoint}.");
        return response;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var giveUp = DateTime.UtcNow + Step;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, failure);
            await Task.Delay(20);
        }
    }

    // Unique per test: the tests of the class share one nats-server.
    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private async Task<NatsConnection> ConnectAsync()
    {
        var connection = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString(), Name = "services-tests" });
        await connection.ConnectAsync().AsTask().WaitAsync(Step);
        return connection;
    }

    private NatsTransportOptions Options(Action<NatsTransportOptions>? change = null)
    {
        var options = new NatsTransportOptions { Url = nats.Server.Url.ToString(), KeepAliveInterval = TimeSpan.FromMilliseconds(500) };
        change?.Invoke(options);
        return options;
    }

    // Echoes after a delay, or throws for the payload "fail".
    private sealed class SometimesFailingHandler(string error, TimeSpan delay) : IEndpointHandler
    {
        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            var payload = request.Payload.ToArray();
            if (payload.AsSpan().SequenceEqual("fail"u8))
            {
                throw new InvalidOperationException(error);
            }

            // At least the delay by the clock the statistics use: a timer may fire a little early.
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < delay)
            {
                await Task.Delay(delay - waited.Elapsed + TimeSpan.FromMilliseconds(1), request.RequestAborted);
            }

            await responses.WriteMessageAsync(payload, request.RequestAborted);
        }
    }
}
