using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats.Tests;

public sealed class NatsTransportTests(NatsServerFixture nats) : IClassFixture<NatsServerFixture>
{
    private static TimeSpan Step => TransportHarness.Step;

    [Fact(Timeout = 60_000)]
    public async Task NoResponders_FailsFastWithUnavailable_NotAtTheDeadline()
    {
        await using var harness = await TransportHarness.StartAsync(Options());
        var nobody = new EndpointAddress("tests", "nobody", "home");

        // A deadline far beyond the wait: the failure must come from NATS's no-responders answer, not the clock.
        var request = TransportHarness.Request(nobody, InstanceId.NewId(), "x"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5));
        var error = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(request).WaitAsync(TimeSpan.FromSeconds(10)));

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
            "acme.plexus.ns~a.comp.ep.00000000000000ff",
            NatsAddress.InstanceSubject("acme.plexus", new EndpointAddress("ns.a", "comp", "ep"), new InstanceId(255)));
    }

    [Fact(Timeout = 60_000)]
    public async Task QueueGroup_LetsTheBrokerPickAnInstance()
    {
        var options = Options(o => o.QueueGroup = "workers");
        await using var first = await TransportHarness.StartAsync(options);
        await using var second = await TransportHarness.StartAsync(options);
        var endpoint = new EndpointAddress("tests", "queue", Guid.NewGuid().ToString("N")[..12]);
        first.Server.Register(endpoint, InstanceId.NewId(), new FixedHandler("first"));
        second.Server.Register(endpoint, InstanceId.NewId(), new FixedHandler("second"));
        var queueAddress = new Uri($"nats://127.0.0.1:{nats.Server.Port}/plexus");

        var answers = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            // Any instance id: the queue subject does not name one. A large payload proves chunks follow the head.
            var payload = i == 0 ? new byte[3 * 1024 * 1024] : "x"u8.ToArray();
            var reply = Assert.Single(await first.CallAsync(TransportHarness.Request(endpoint, InstanceId.NewId(), payload), queueAddress));
            answers.Add(Encoding.UTF8.GetString(reply));
        }

        Assert.Subset(new HashSet<string> { "first", "second" }, answers);
        Assert.NotEmpty(answers);
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

        Assert.Equal(1024 * 1024, ((NatsServer)harness.Server).Connection.MaxPayload);
        Assert.Equal(payload.Length, reply.Length);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(reply));
    }

    [Fact(Timeout = 60_000)]
    public async Task OneMessageAnswer_TravelsAsOneLastFrame()
    {
        // A spy on every inbox sees the frames the server sends back.
        await using var spy = new NatsConnection(new NatsConnectionOptions { Servers = [nats.Server.Url] });
        await spy.ConnectAsync(CancellationToken.None).WaitAsync(Step);
        var frames = new CollectingHandler();
        spy.Subscribe("_INBOX.>", null, frames);
        await spy.FlushAsync(CancellationToken.None).WaitAsync(Step);
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
        await spy.FlushAsync(CancellationToken.None).WaitAsync(Step);
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
        await using var raw = new NatsConnection(new NatsConnectionOptions { Servers = [nats.Server.Url] });
        await raw.ConnectAsync(CancellationToken.None).WaitAsync(Step);
        var endpoint = new EndpointAddress("tests", "gap", Guid.NewGuid().ToString("N")[..12]);
        var instance = InstanceId.NewId();
        raw.Subscribe(NatsAddress.InstanceSubject("plexus", endpoint, instance), null, new GappyServer(raw));
        await raw.FlushAsync(CancellationToken.None).WaitAsync(Step);
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
        };

        var problems = string.Join("\n", options.Validate());

        Assert.Contains("Plexus:Transports:Nats:Url", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:SubjectPrefix", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:WindowBytes", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:KeepAliveInterval", problems, StringComparison.Ordinal);
        Assert.Contains("Plexus:Transports:Nats:Token", problems, StringComparison.Ordinal);
        Assert.Empty(new NatsTransportOptions().Validate());
        Assert.Throws<ArgumentException>(() => new NatsTransportFactory(options, ArrayPool<byte>.Shared));
    }

    [Fact]
    public void Plugin_BindsItsSection_AndValidatesOnStart()
    {
        var good = Provider(new Dictionary<string, string?>
        {
            ["Plexus:Transports:Nats:Url"] = "nats://10.0.0.5:4222, nats://10.0.0.6:4222",
            ["Plexus:Transports:Nats:QueueGroup"] = "workers",
            ["Plexus:Transports:Nats:Tls:ServerName"] = "nats.internal",
        });
        var options = good.GetRequiredService<IOptions<NatsTransportOptions>>().Value;
        Assert.Equal(2, options.Servers().Count);
        Assert.Equal("workers", options.QueueGroup);
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

    private sealed class GappyServer(NatsConnection connection) : INatsMessageHandler
    {
        public void OnMessage(in NatsMessage message)
        {
            var reply = Encoding.UTF8.GetString(message.ReplyTo);
            foreach (var seq in new[] { 0, 2 })
            {
                var headers = new NatsHeaderWriter().Start().Add("Plexus-Frame", "data").Add("Plexus-Seq", seq.ToString(System.Globalization.CultureInfo.InvariantCulture)).End();
                connection.Publish(reply, null, headers.Span, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes($"frame {seq}")));
            }
        }
    }
}
