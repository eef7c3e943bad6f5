using System.Buffers;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Plexus.Hosting.Composition;
using Plexus.Host.Hosting;
using Plexus.Hosting;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane.Server;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.RequestPlane;

public sealed class RequestPlaneServerHostTests
{
    private static readonly EndpointAddress One = EndpointAddress.Parse("test/server/one");
    private static readonly EndpointAddress Two = EndpointAddress.Parse("test/server/two");
    private static readonly EndpointAddress Greet = EndpointAddress.Parse("test/server/greet");

    private sealed class Handler : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => ValueTask.CompletedTask;
    }

    /// <summary>A service the container holds, for a handler to take in its constructor.</summary>
    private sealed record Greeting(string Text);

    /// <summary>A handler class created by dependency injection: it answers with the greeting it was given.</summary>
    private sealed class GreetingHandler(Greeting greeting) : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) =>
            responses.WriteMessageAsync(Encoding.UTF8.GetBytes($"{greeting.Text}, {Encoding.UTF8.GetString(request.Payload)}"), request.RequestAborted);
    }

    private static (ServiceProvider Services, Mock<IRequestPlaneServer> Server) Build(params (string, string)[] settings) => Build(null, null, settings);

    private static (ServiceProvider Services, Mock<IRequestPlaneServer> Server) Build(ILoggerProvider? logs, params (string, string)[] settings) => Build(logs, null, settings);

    private static (ServiceProvider Services, Mock<IRequestPlaneServer> Server) Build(Action<IServiceCollection> more) => Build(null, more);

    private static (ServiceProvider Services, Mock<IRequestPlaneServer> Server) Build(ILoggerProvider? logs, Action<IServiceCollection>? more, params (string, string)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Plexus:Discovery:Provider"] = "memory",
            ["Plexus:RequestPlane:Transport"] = "fake",
            ["Plexus:Discovery:LeaseTtl"] = "00:00:00.300",
            ["Plexus:Server:DrainTimeout"] = "00:00:00.500",
        };
        foreach (var (k, v) in settings)
        {
            values[k] = v;
        }

        var server = new Mock<IRequestPlaneServer>();
        server.SetupGet(s => s.Address).Returns(new Uri("fake://node-1"));
        var factory = new Mock<ITransportFactory>();
        factory.SetupGet(f => f.Name).Returns("fake");
        factory.Setup(f => f.CreateServer()).Returns(server.Object);

        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            if (logs is not null)
            {
                b.AddProvider(logs);
            }
        });
        services.AddSingleton(new PluginCatalog([], NullLogger.Instance));
        services.AddSingleton(factory.Object);
        services.AddPlexusRequestPlane(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddPlexusEndpoint(One.ToString(), _ => new Handler());
        services.AddPlexusEndpoint(Two.ToString(), _ => new Handler());
        more?.Invoke(services);
        return (services.BuildServiceProvider(), server);
    }

    [Fact]
    public async Task Start_serves_every_endpoint_on_one_server_and_registers_each_in_discovery()
    {
        var (services, server) = Build();
        await using var _ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();
        var discovery = services.GetRequiredService<PlexusComposition>().Discovery;

        IRequestDispatcher? dispatcher = null;
        server.Setup(s => s.StartAsync(It.IsAny<IRequestDispatcher>(), It.IsAny<CancellationToken>()))
            .Callback((IRequestDispatcher d, CancellationToken _) => dispatcher = d)
            .Returns(ValueTask.CompletedTask);

        await host.StartAsync(CancellationToken.None);

        server.Verify(s => s.StartAsync(It.IsAny<IRequestDispatcher>(), It.IsAny<CancellationToken>()), Times.Once);
        var listed = await discovery.ListAsync(null, CancellationToken.None);
        Assert.Equal(2, listed.Count);

        // The one dispatcher the server was started with serves both endpoints as the instances discovery lists.
        Assert.NotNull(dispatcher);
        Assert.All(listed, i => Assert.Null(dispatcher.Admit(i.Endpoint, i.Id)));
        Assert.NotNull(dispatcher.Admit(One, InstanceId.NewId()));
        Assert.All(listed, i => Assert.Equal(new Uri("fake://node-1"), i.Address));
        Assert.All(listed, i => Assert.Equal("fake", i.Transport));
        Assert.All(listed, i => Assert.False(string.IsNullOrEmpty(i.Metadata[InstanceMetadataKeys.Node])));

        // Leases outlive several times their TTL because the host renews them.
        await Task.Delay(1000);
        Assert.Equal(2, (await discovery.ListAsync(null, CancellationToken.None)).Count);

        await host.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_handler_class_added_by_type_is_created_by_the_container_and_serves_with_what_it_was_injected()
    {
        var (services, server) = Build(s =>
        {
            s.AddSingleton(new Greeting("Bonjour"));
            s.AddPlexusEndpoint<GreetingHandler>(Greet.ToString());
        });
        await using var _ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();
        var discovery = services.GetRequiredService<PlexusComposition>().Discovery;

        IRequestDispatcher? dispatcher = null;
        server.Setup(s => s.StartAsync(It.IsAny<IRequestDispatcher>(), It.IsAny<CancellationToken>()))
            .Callback((IRequestDispatcher d, CancellationToken _) => dispatcher = d)
            .Returns(ValueTask.CompletedTask);

        await host.StartAsync(CancellationToken.None);

        // Served beside the endpoints added with a factory, as the instance discovery lists, by the class the
        // container made with the service it holds.
        var listed = await discovery.ListAsync(null, CancellationToken.None);
        Assert.Equal(3, listed.Count);
        var greet = Assert.Single(listed, i => i.Endpoint == Greet);
        Assert.NotNull(dispatcher);
        var channel = new RecordingChannel();
        await dispatcher.DispatchAsync(
            new IncomingRequest(Greet, greet.Id, "r1", new ReadOnlySequence<byte>("world"u8.ToArray()), new Dictionary<string, string>(), null, CancellationToken.None),
            channel);

        Assert.Null(channel.Error);
        Assert.Equal(["Bonjour, world"], channel.Messages);

        await host.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Stop_leaves_discovery_before_draining_then_disposes()
    {
        var (services, server) = Build();
        await using var _ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();
        var discovery = services.GetRequiredService<PlexusComposition>().Discovery;
        var order = new List<string>();
        int listedDuringDrain = -1;
        server.Setup(s => s.StopAcceptingAsync(It.IsAny<CancellationToken>()))
            .Returns(async (CancellationToken _) =>
            {
                order.Add("drain");
                listedDuringDrain = (await discovery.ListAsync(null, CancellationToken.None)).Count;
            });
        server.Setup(s => s.DisposeAsync()).Callback(() => order.Add("dispose")).Returns(ValueTask.CompletedTask);

        await host.StartAsync(CancellationToken.None);
        await host.StopAsync(CancellationToken.None);

        Assert.Equal(["drain", "dispose"], order);
        Assert.Equal(0, listedDuringDrain);
        Assert.True(host.IsDraining);
    }

    [Fact]
    public async Task A_drain_that_outlasts_the_grace_period_is_cut_short()
    {
        var (services, server) = Build();
        await using var _ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();
        server.Setup(s => s.StopAcceptingAsync(It.IsAny<CancellationToken>()))
            .Returns((CancellationToken token) => new ValueTask(Task.Delay(Timeout.Infinite, token)));

        await host.StartAsync(CancellationToken.None);
        await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        server.Verify(s => s.DisposeAsync(), Times.Once);
    }

    [Fact]
    public async Task A_drain_cut_short_by_the_grace_period_logs_the_warning_not_drained()
    {
        // A transport that takes the whole grace period to stop accepting: the drain is cut short.
        var logs = new EventLogProvider();
        var (services, server) = Build(logs, ("Plexus:Server:DrainTimeout", "200ms"));
        await using var _ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();
        server.Setup(s => s.StopAcceptingAsync(It.IsAny<CancellationToken>()))
            .Returns(async (CancellationToken token) =>
            {
                await Task.Delay(Timeout.Infinite, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            });

        await host.StartAsync(CancellationToken.None);
        await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        var aborted = Assert.Single(logs.Entries, e => e.EventId == 1105);
        Assert.Equal(LogLevel.Warning, aborted.Level);
        Assert.Contains("Plexus:Server:DrainTimeout", aborted.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.EventId == 1104);
    }

    [Fact]
    public async Task A_drain_that_finishes_in_time_logs_drained()
    {
        var logs = new EventLogProvider();
        var (services, _) = Build(logs);
        await using var __ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();

        await host.StartAsync(CancellationToken.None);
        await host.StopAsync(CancellationToken.None);

        Assert.Single(logs.Entries, e => e.EventId == 1104);
        Assert.DoesNotContain(logs.Entries, e => e.EventId == 1105);
    }

    [Fact]
    public async Task A_transport_that_fails_to_start_is_disposed_and_nothing_claims_a_drain()
    {
        var logs = new EventLogProvider();
        var (services, server) = Build(logs);
        await using var _ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();
        server.Setup(s => s.StartAsync(It.IsAny<IRequestDispatcher>(), It.IsAny<CancellationToken>())).Returns(ValueTask.FromException(new InvalidOperationException("cannot listen")));

        await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(CancellationToken.None));
        await host.DisposeAsync();

        server.Verify(s => s.DisposeAsync(), Times.Once);
        server.Verify(s => s.StopAcceptingAsync(It.IsAny<CancellationToken>()), Times.Never);
        Assert.DoesNotContain(logs.Entries, e => e.EventId is 1104 or 1105);
        Assert.Null(host.Address);
    }

    [Fact]
    public async Task A_disabled_server_serves_nothing()
    {
        var (services, server) = Build(("Plexus:Server:Enabled", "false"));
        await using var _ = services;
        var host = services.GetRequiredService<RequestPlaneServerHost>();

        await host.StartAsync(CancellationToken.None);

        server.Verify(s => s.StartAsync(It.IsAny<IRequestDispatcher>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Null(host.Address);
    }

    /// <summary>A response channel that keeps the messages written into it and the error it was completed with.</summary>
    private sealed class RecordingChannel : IResponseChannel
    {
        private readonly ArrayBufferWriter<byte> _buffer = new();

        public List<string> Messages { get; } = [];

        public PlexusException? Error { get; private set; }

        public bool HasResponded => Messages.Count > 0;

        public void Advance(int count) => _buffer.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

        public void EndMessage()
        {
            Messages.Add(Encoding.UTF8.GetString(_buffer.WrittenSpan));
            _buffer.Clear();
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask CompleteAsync(PlexusException? error)
        {
            Error = error;
            return ValueTask.CompletedTask;
        }
    }
}
