using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Plexus.Transport.Nats.Tests;

public sealed class NatsTransportTests(NatsServerFixture nats) : IClassFixture<NatsServerFixture>
{
    private static TimeSpan Step => TransportHarness.Step;

    [Fact(Timeout = 60_000)]
    public async Task NoResponders_FailsFastWithUnavailable_NotAtTheDeadline()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var endpoint = new EndpointAddress("tests", "nobody", "home");
        var instance = InstanceId.NewId();
        harness.Server.Register(endpoint, instance, new EchoHandler());

        // The endpoint is served, but not by the process this address names: nobody subscribes its subjects. A
        // deadline far beyond the wait: the failure must come from NATS's no-responders answer, not the clock.
        var gone = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus/{InstanceId.NewId()}");
        var request = TransportHarness.Request(endpoint, instance, "x"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5));
        var error = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(request, gone).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("no responders", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact(Timeout = 60_000)]
    public async Task Address_NamesTheNatsServerPrefixAndServerId()
    {
        await using var harness = await TransportHarness.StartAsync(Options(o => o.SubjectPrefix = "acme.plexus"));

        var address = NatsAddress.Parse(harness.Server.Address);

        Assert.Equal("nats", harness.Server.Address.Scheme);
        Assert.Equal($"127.0.0.1:{nats.Server.Port}", address.Authority);
        Assert.Equal("acme.plexus", address.Prefix);
        Assert.Matches("^[0-9a-f]{16}$", address.ServerId);
        Assert.Equal($"acme.plexus._ctl.{address.ServerId}", address.ControlSubject);
        Assert.Equal(
            $"acme.plexus.ns~a.comp.ep.00000000000000ff.{address.ServerId}",
            NatsAddress.RequestSubject("acme.plexus", new EndpointAddress("ns.a", "comp", "ep"), new InstanceId(255), address.ServerId));
        Assert.Equal($"acme.plexus.*.*.*.*.{address.ServerId}", NatsAddress.RequestSubscription("acme.plexus", address.ServerId));
    }

    [Fact(Timeout = 60_000)]
    public async Task EndpointsRegisteredAfterStart_AreServed_ThroughTheServersOneRequestSubscription()
    {
        // A spy on the prefix sees every subject a request travels on.
        await using var heads = await NatsSpy.StartAsync(nats.Server.Url, "subjects.*.*.*.*.*");
        await using var harness = await TransportHarness.StartAsync(Options(o => o.SubjectPrefix = "subjects"));
        var serverId = NatsAddress.Parse(harness.Server.Address).ServerId;
        var dotted = new EndpointAddress("tests.a", "late", "echo.v2");
        var instance = InstanceId.NewId();
        harness.Server.Register(dotted, instance, new EchoHandler());

        Assert.Equal("x"u8.ToArray(), Assert.Single(await harness.CallAsync(TransportHarness.Request(dotted, instance, "x"u8.ToArray()))));

        var head = await heads.NextAsync();
        Assert.Equal($"subjects.tests~a.late.echo~v2.{instance}.{serverId}", head.Subject);
    }

    [Fact]
    public void RequestSubject_SplitsBackIntoEndpointTokensAndInstance()
    {
        var subject = NatsAddress.RequestSubject("a.b", new EndpointAddress("ns.x", "comp", "ep"), new InstanceId(0xabc), "0123456789abcdef");

        Assert.True(NatsAddress.TrySplitRequestSubject(Encoding.ASCII.GetBytes(subject), "a.b".Length, out var tokens, out var instance));
        Assert.Equal("ns~x.comp.ep", Encoding.ASCII.GetString(tokens));
        Assert.Equal(new InstanceId(0xabc), instance);
        Assert.False(NatsAddress.TrySplitRequestSubject("a.b.ns.comp.ep.abc.0123456789abcdef"u8, "a.b".Length, out _, out _));
        Assert.False(NatsAddress.TrySplitRequestSubject("a.b.0123456789abcdez.0123456789abcdef"u8, "a.b".Length, out _, out _));

        var names = new NatsEndpointNames();
        Assert.True(names.TryRead("ns~x.comp.ep"u8, out var endpoint, out var kept));
        Assert.Equal(new EndpointAddress("ns.x", "comp", "ep"), endpoint);
        Assert.False(kept);
        names.Keep(endpoint);
        Assert.True(names.TryRead("ns~x.comp.ep"u8, out var again, out kept));
        Assert.True(kept);
        Assert.Equal(endpoint, again);
        Assert.False(names.TryRead("ns.comp"u8, out _, out _));
        Assert.False(names.TryRead("ns.c*mp.ep"u8, out _, out _));
    }

    [Fact(Timeout = 60_000)]
    public async Task StopAccepting_UnsubscribesSoNewRequestsGetNoResponders_WhileInFlightOnesFinish()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var endpoint = new EndpointAddress("tests", "stop", Guid.NewGuid().ToString("N")[..12]);
        var instance = InstanceId.NewId();
        var handler = new TwoStepHandler();
        harness.Server.Register(endpoint, instance, handler);
        await using var stream = await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));

        await harness.Server.StopAcceptingAsync(CancellationToken.None).AsTask().WaitAsync(Step);

        // nats-server confirmed the unsubscribe: a new request is turned away by NATS itself, fit to go elsewhere.
        var refused = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(TransportHarness.Request(endpoint, instance, "y"u8.ToArray())));
        Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
        Assert.True(refused.BeforeFirstByte);
        Assert.Contains("no responders", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HealthStatus.Degraded, harness.Server.Health.Status);

        // The control subject stays: the request in flight still gets its credit, pings and end.
        handler.Release.SetResult();
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
        Assert.Equal("second", Encoding.UTF8.GetString(stream.Current.ToArray()));
        Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
    }

    [Fact(Timeout = 60_000)]
    public async Task StopAccepting_WaitsForARequestWhosePayloadIsStillArriving_ThenItIsServed()
    {
        // A hand-made requester, so that the test decides when the request's second chunk is sent.
        var inbox = "_INBOX.stoptest" + Guid.NewGuid().ToString("N") + ".1";
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, inbox);
        var raw = frames.Connection;
        await using var harness = await TransportHarness.StartAsync(Options());
        var server = (NatsServer)harness.Server;
        var target = NatsAddress.Parse(server.Address);
        var endpoint = new EndpointAddress("tests", "stop", "chunked");
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new EchoHandler());
        var head = new NatsHeaders
        {
            ["Plexus-Request-Id"] = "r1",
            ["Plexus-Window"] = "1048576",
            ["Plexus-Keepalive"] = "10000",
            ["Plexus-Length"] = "6",
        };
        await raw.PublishAsync(NatsAddress.RequestSubject(target.Prefix, endpoint, instance, target.ServerId), "abc"u8.ToArray(), head, inbox);
        await raw.PingAsync();
        await WaitUntilAsync(() => server.InFlight == 1);

        var stopping = server.StopAcceptingAsync(CancellationToken.None).AsTask();
        await Task.Delay(300);
        Assert.False(stopping.IsCompleted, "StopAcceptingAsync completed while an admitted request had not been dispatched.");

        var part = new NatsHeaders { ["Plexus-Frame"] = "part", ["Plexus-Seq"] = "1" };
        await raw.PublishAsync(target.ControlSubject, "def"u8.ToArray(), part, inbox);
        await stopping.WaitAsync(Step);

        var answer = await frames.NextAsync(Step);
        Assert.Equal("last", answer.Headers["Plexus-Frame"]);
        Assert.Equal("abcdef", answer.Text);
    }

    [Fact(Timeout = 60_000)]
    public async Task RefusalsFromTheDispatcher_CarryTheirCode_BeforeThePayloadIsRead()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var endpoint = new EndpointAddress("tests", "refused", Guid.NewGuid().ToString("N")[..12]);
        var instance = InstanceId.NewId();
        harness.Server.Register(endpoint, instance, new EchoHandler());

        // A stale instance id, with a payload that would need chunks: refused from the head alone.
        var error = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(TransportHarness.Request(endpoint, InstanceId.NewId(), new byte[3 * 1024 * 1024])));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains("stale", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, ((NatsServer)harness.Server).InFlight);
    }

    [Fact(Timeout = 60_000)]
    public async Task AddressWithoutServerId_IsRefusedBeforeSending()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var prefixOnly = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => harness.CallAsync(TransportHarness.Request(new EndpointAddress("tests", "queue", "x"), InstanceId.NewId(), "x"u8.ToArray()), prefixOnly));

        Assert.Contains("/<prefix>/<server-id>", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task OneMiBMaxPayloadServer_Carries64MiBEachWay()
    {
        await using var server = await NatsServerProcess.StartAsync("max_payload: 1048576");
        await using var harness = await TransportHarness.StartAsync(Options(o => o.Url = server.Url.ToString()));
        var endpoint = new EndpointAddress("tests", "big", "echo");
        var instance = InstanceId.NewId();
        harness.Server.Register(endpoint, instance, new EchoHandler());
        var payload = new byte[64 * 1024 * 1024];
        new Random(5).NextBytes(payload);

        var reply = Assert.Single(await harness.CallAsync(TransportHarness.Request(endpoint, instance, payload)));

        Assert.Equal(1024 * 1024, ((NatsServer)harness.Server).Link.MaxPayload);
        Assert.Equal(payload.Length, reply.Length);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(reply));
    }

    [Fact(Timeout = 60_000)]
    public async Task OneMessageAnswer_TravelsAsOneLastFrame()
    {
        // A spy on every inbox sees the frames the server sends back.
        await using var frames = await NatsSpy.StartAsync(nats.Server.Url, "_INBOX.>");
        await using var harness = await TransportHarness.StartAsync(Options());
        var endpoint = new EndpointAddress("tests", "last", Guid.NewGuid().ToString("N")[..12]);
        var instance = InstanceId.NewId();
        harness.Server.Register(endpoint, instance, new FixedHandler("only"));

        var messages = await harness.CallAsync(TransportHarness.Request(endpoint, instance, "x"u8.ToArray()));

        Assert.Equal("only", Encoding.UTF8.GetString(Assert.Single(messages)));
        var frame = await frames.NextAsync();
        Assert.Equal("last", frame.Headers["Plexus-Frame"]);
        Assert.Equal("0", frame.Headers["Plexus-Seq"]);
        Assert.Equal("only", frame.Text);
        await frames.Connection.PingAsync();
        Assert.False(frames.TryNext(out var more), $"a second frame: {more?.Headers.GetValueOrDefault("Plexus-Frame")}");
    }

    [Fact(Timeout = 60_000)]
    public async Task MessageFlushedBeforeAnAwait_ArrivesWhileTheHandlerWaits()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var endpoint = new EndpointAddress("tests", "held", Guid.NewGuid().ToString("N")[..12]);
        var instance = InstanceId.NewId();
        var handler = new TwoStepHandler();
        harness.Server.Register(endpoint, instance, handler);

        await using var stream = await harness.Client.SendAsync(harness.Server.Address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);

        // The first message cannot wait for the end: the handler ends only after the test has read it.
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
        Assert.Equal("first", Encoding.UTF8.GetString(stream.Current.ToArray()));
        handler.Release.SetResult();
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
        Assert.Equal("second", Encoding.UTF8.GetString(stream.Current.ToArray()));
        Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
    }

    [Fact(Timeout = 60_000)]
    public async Task MissingFrame_IsReportedAsAGap()
    {
        // A hand-made "server" that skips frame 1: the client must say so, not deliver a stream with a hole.
        await using var raw = new NatsConnection(new NatsOpts { Url = nats.Server.Url.ToString() });
        await raw.ConnectAsync();
        var endpoint = new EndpointAddress("tests", "gap", Guid.NewGuid().ToString("N")[..12]);
        var instance = InstanceId.NewId();
        await using var heads = await raw.SubscribeCoreAsync<byte[]>(NatsAddress.RequestSubject("plexus", endpoint, instance, "0123456789abcdef"));
        await raw.PingAsync();
        var gappy = Task.Run(async () =>
        {
            // Frames 0 and 2, never 1.
            var head = await heads.Msgs.ReadAsync();
            foreach (var seq in new[] { 0, 2 })
            {
                var frame = new NatsHeaders { ["Plexus-Frame"] = "data", ["Plexus-Seq"] = seq.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                await raw.PublishAsync(head.ReplyTo!, Encoding.UTF8.GetBytes($"frame {seq}"), frame);
            }
        });
        await using var client = new NatsTransportFactory(Options(), ArrayPool<byte>.Shared).CreateClient();
        var address = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus/0123456789abcdef");

        var stream = await client.SendAsync(address, TransportHarness.Request(endpoint, instance, "x"u8.ToArray()), CancellationToken.None).AsTask().WaitAsync(Step);
        await using (stream)
        {
            Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Step));
            Assert.Equal("frame 0", Encoding.UTF8.GetString(stream.Current.ToArray()));
            var error = await Assert.ThrowsAsync<PlexusException>(() => stream.MoveNextAsync().AsTask().WaitAsync(Step));
            Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
            Assert.Contains("frame 1", error.Message, StringComparison.Ordinal);
        }

        await gappy.WaitAsync(Step);
    }

    [Fact(Timeout = 60_000)]
    public async Task HeadersThatNatsCannotCarry_AreRefusedBeforeSending()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var endpoint = new EndpointAddress("tests", "headers", "x");

        var lineBreak = new OutgoingRequest(endpoint, InstanceId.NewId(), "r", ReadOnlySequence<byte>.Empty, new Dictionary<string, string> { ["x"] = "a\r\nb" }, null);
        var reserved = new OutgoingRequest(endpoint, InstanceId.NewId(), "r", ReadOnlySequence<byte>.Empty, new Dictionary<string, string> { ["Plexus-Seq"] = "1" }, null);

        await Assert.ThrowsAsync<ArgumentException>(() => harness.Client.SendAsync(harness.Server.Address, lineBreak, CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => harness.Client.SendAsync(harness.Server.Address, reserved, CancellationToken.None).AsTask());
    }

    [Fact]
    public void Options_Validation_NamesTheKey()
    {
        var options = new NatsTransportOptions
        {
            Url = "http://nope",
            SubjectPrefix = "bad prefix",
            WindowBytes = 10,
            KeepAliveInterval = TimeSpan.Zero,
            Token = "t",
            User = "u",
            QueueGroup = "two words",
            NKeyFile = "/nonexistent/user.nk",
            ReconnectBufferBytes = 1024,
            MaxRequestBytesInFlight = 1024,
            ServiceVersion = "v1",
        };

        var problems = string.Join("\n", options.Validate());

        Assert.Contains("Plexus:Transports:Nats:Url", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:SubjectPrefix", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:WindowBytes", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:KeepAliveInterval", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:Token", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:QueueGroup", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:NKeyFile is '/nonexistent/user.nk', which does not exist", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:ReconnectBufferBytes is no longer used", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:MaxRequestBytesInFlight", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:ServiceVersion", problems, StringComparison.Ordinal);
        Assert.Empty(new NatsTransportOptions().Validate());
        Assert.Throws<ArgumentException>(() => new NatsTransportFactory(options, ArrayPool<byte>.Shared));
    }

    [Fact]
    public void Plugin_BindsItsSection_AndValidatesOnStart()
    {
        var good = Provider(new Dictionary<string, string?>
        {
            ["Plexus:Transports:Nats:Url"] = "nats://10.0.0.5:4222, nats://10.0.0.6:4222",
            ["Plexus:Transports:Nats:SubjectPrefix"] = "acme.plexus",
            ["Plexus:Transports:Nats:Tls:ServerName"] = "nats.internal",
        });
        var options = good.GetRequiredService<IOptions<NatsTransportOptions>>().Value;
        Assert.Equal(2, options.Servers().Count);
        Assert.Equal("acme.plexus", options.SubjectPrefix);
        Assert.Equal("nats.internal", options.Tls.ServerName);
        Assert.Equal("nats", good.GetRequiredService<ITransportFactory>().Name);

        var bad = Provider(new Dictionary<string, string?> { ["Plexus:Transports:Nats:MaxPayloadBytes"] = "0" });
        var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<NatsTransportOptions>>().Value);
        Assert.Contains("Plexus:Transports:Nats:MaxPayloadBytes", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        new NatsPlugin().ConfigureServices(services, configuration);
        return services.BuildServiceProvider();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var giveUp = DateTime.UtcNow + Step;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, "The condition did not become true in time.");
            await Task.Delay(20);
        }
    }

    private NatsTransportOptions Options(Action<NatsTransportOptions>? change = null)
    {
        var options = new NatsTransportOptions { Url = nats.Server.Url.ToString(), KeepAliveInterval = TimeSpan.FromMilliseconds(500) };
        change?.Invoke(options);
        return options;
    }

    private sealed class FixedHandler(string reply) : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) =>
            responses.WriteMessageAsync(Encoding.UTF8.GetBytes(reply), request.RequestAborted);
    }

    private sealed class TwoStepHandler : IEndpointHandler
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
        {
            responses.WriteMessage("first"u8);
            await responses.FlushAsync(request.RequestAborted);
            await Release.Task.WaitAsync(request.RequestAborted);
            responses.WriteMessage("second"u8);
            await responses.FlushAsync(request.RequestAborted);
        }
    }
}
