using System.Buffers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Memory.Tests;

/// <summary>What the conformance kit cannot see from outside: buffer ownership, configuration, addresses.</summary>
public sealed class MemoryTransportTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();
    private static readonly EndpointAddress Endpoint = new("memory", "tests", "endpoint");

    [Fact(Timeout = 60_000)]
    public async Task PooledBuffers_AreAllReturned_HoweverRequestsEnd()
    {
        var pool = new CountingArrayPool();
        var factory = new MemoryTransportFactory(new MemoryTransportOptions { MaxBufferedBytes = 64 * 1024, MaxBufferedMessages = 16 }, pool);
        var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        var client = factory.CreateClient();

        var stream = Register(server, "stream", new DelegateHandler(async (request, responses) =>
        {
            for (var i = 0; i < 200; i++)
            {
                responses.WriteMessage(new byte[1000 + i]);
                if (i % 3 == 0)
                {
                    await responses.FlushAsync(request.RequestAborted);
                }
            }
        }));
        var failing = Register(server, "failing", new DelegateHandler(async (request, responses) =>
        {
            // Ended but never flushed, then a failure: the writer must give these back itself.
            responses.WriteMessage(new byte[5000]);
            responses.WriteMessage(new byte[5000]);
            await Task.Yield();
            throw new InvalidOperationException("failed with messages pending");
        }));
        var blocking = Register(server, "blocking", new DelegateHandler(async (request, responses) =>
        {
            await responses.WriteMessageAsync(new byte[3000], request.RequestAborted);
            responses.GetSpan(10_000);
            await Task.Delay(Timeout.Infinite, request.RequestAborted);
        }));

        // Read to the end; stop early; fail; cancel by token; die with the server.
        Assert.Equal(200, await ReadAllAsync(client, server, stream));
        await using (var early = await client.SendAsync(server.Address, Request(stream), CancellationToken.None))
        {
            Assert.True(await early.MoveNextAsync().AsTask().WaitAsync(Bound));
            await Task.Delay(50);
        }

        await Assert.ThrowsAsync<PlexusException>(() => ReadAllAsync(client, server, failing));

        using (var cancellation = new CancellationTokenSource())
        {
            await using var cancelled = await client.SendAsync(server.Address, Request(blocking), cancellation.Token);
            Assert.True(await cancelled.MoveNextAsync().AsTask().WaitAsync(Bound));
            await cancellation.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.MoveNextAsync().AsTask().WaitAsync(Bound));
        }

        var dying = await client.SendAsync(server.Address, Request(blocking), CancellationToken.None);
        Assert.True(await dying.MoveNextAsync().AsTask().WaitAsync(Bound));
        await server.DisposeAsync();
        await Assert.ThrowsAsync<PlexusException>(() => dying.MoveNextAsync().AsTask().WaitAsync(Bound));
        await dying.DisposeAsync();

        // Handlers finish on their own threads; give them a moment to hand their buffers back.
        for (var i = 0; i < 500 && pool.Outstanding > 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.True(pool.Rented > 200, $"Only {pool.Rented} rentals: the transport is not using the pool it was given.");
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.BadReturns);
    }

    [Theory]
    [InlineData("MaxPayloadBytes", "0")]
    [InlineData("MaxPayloadBytes", "4294967296")]
    [InlineData("MaxBufferedBytes", "-1")]
    [InlineData("MaxBufferedMessages", "0")]
    [InlineData("MaxBufferedBytesPerClient", "1024")]
    public void InvalidSetting_FailsValidationOnStart_NamingTheKey(string setting, string value)
    {
        using var services = BuildServices(new() { [$"Plexus:Transports:Memory:{setting}"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains($"Plexus:Transports:Memory:{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidOptions_GivenDirectly_AreRefusedNamingTheKey()
    {
        var error = Assert.Throws<ArgumentException>(() => new MemoryTransportFactory(new MemoryTransportOptions { MaxBufferedMessages = 0 }, ArrayPool<byte>.Shared));

        Assert.Contains("Plexus:Transports:Memory:MaxBufferedMessages", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Plugin_RegistersTheFactory_WithItsBoundSettings()
    {
        using var services = BuildServices(new() { ["Plexus:Transports:Memory:MaxPayloadBytes"] = "1024" });
        services.GetRequiredService<IStartupValidator>().Validate();

        var factory = Assert.Single(services.GetServices<ITransportFactory>());
        Assert.Equal("memory", factory.Name);
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var endpoint = Register(server, "echo", new DelegateHandler((request, responses) =>
            responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted)));

        Assert.Equal(1, await ReadAllAsync(client, server, endpoint, new byte[1024]));
        var error = await Assert.ThrowsAsync<PlexusException>(() => ReadAllAsync(client, server, endpoint, new byte[1025]));
        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains("Plexus:Transports:Memory:MaxPayloadBytes", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ManyUnreadStreams_HoldNoMoreThanTheClientsBudget_AndAnotherClientIsNotHeldUp()
    {
        const long PerClient = 4L * 1024 * 1024;
        var factory = new MemoryTransportFactory(
            new MemoryTransportOptions { MaxBufferedBytes = 1024 * 1024, MaxBufferedMessages = 1024, MaxBufferedBytesPerClient = PerClient },
            ArrayPool<byte>.Shared);
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        var endless = Register(server, "endless", new DelegateHandler(async (request, responses) =>
        {
            while (true)
            {
                await responses.WriteMessageAsync(new byte[1000], request.RequestAborted);
            }
        }));
        var echo = Register(server, "echo", new DelegateHandler((request, responses) =>
            responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted)));
        var greedy = (MemoryClient)factory.CreateClient();
        var other = factory.CreateClient();

        // 64 streams of 1 MiB each would hold 64 MiB; the client's budget holds them to 4 MiB together.
        var unread = new List<IResponseStream>();
        for (var i = 0; i < 64; i++)
        {
            unread.Add(await greedy.SendAsync(server.Address, Request(endless), CancellationToken.None));
        }

        long worst = 0;
        for (var i = 0; i < 50; i++)
        {
            worst = Math.Max(worst, greedy.BufferedBytes);
            Assert.Equal(1, await ReadAllAsync(other, server, echo));
            await Task.Delay(10);
        }

        Assert.True(worst > PerClient / 2, $"Only {worst} bytes were held; the handlers did not run ahead as far as the budget allows.");
        // The budget, plus the one message (a 4 KiB array) any request may hold whatever the others hold.
        Assert.True(worst <= PerClient + (64 * 4096), $"{worst} bytes were held for one client that reads nothing; its budget is {PerClient}.");

        // Reading one stream frees room for the others, in turn: nobody waits for good.
        await using (var first = unread[0])
        {
            for (var i = 0; i < 5000; i++)
            {
                Assert.True(await first.MoveNextAsync().AsTask().WaitAsync(Bound));
            }
        }

        foreach (var stream in unread)
        {
            await stream.DisposeAsync();
        }

        for (var i = 0; i < 500 && greedy.BufferedBytes > 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, greedy.BufferedBytes);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerChecksItsOwnLimit_AndResponseMessagesHaveTheLimitToo()
    {
        var small = new MemoryTransportFactory(new MemoryTransportOptions { MaxPayloadBytes = 100 }, ArrayPool<byte>.Shared);
        var large = new MemoryTransportFactory(new MemoryTransportOptions(), ArrayPool<byte>.Shared);
        await using var server = small.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = large.CreateClient();
        var echo = Register(server, "echo", new DelegateHandler((request, responses) =>
            responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted)));
        var chatty = Register(server, "chatty", new DelegateHandler((request, responses) =>
            responses.WriteMessageAsync(new byte[101], request.RequestAborted)));

        var refused = await Assert.ThrowsAsync<PlexusException>(() => ReadAllAsync(client, server, echo, new byte[101]));
        var tooLong = await Assert.ThrowsAsync<PlexusException>(() => ReadAllAsync(client, server, chatty));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, refused.Code);
        Assert.Equal(PlexusErrorCode.PayloadTooLarge, tooLong.Code);
        Assert.Contains("response message", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Addresses_AreMemorySchemeAndUnique_AndOthersAreRefused()
    {
        var factory = new MemoryTransportFactory(new MemoryTransportOptions(), ArrayPool<byte>.Shared);
        await using var first = factory.CreateServer();
        await using var second = factory.CreateServer();
        await using var client = factory.CreateClient();

        Assert.Equal("memory", first.Address.Scheme);
        Assert.NotEqual(first.Address, second.Address);
        Assert.Equal(HealthStatus.Unhealthy, first.Health.Status);

        var nobody = await Assert.ThrowsAsync<PlexusException>(
            () => client.SendAsync(new Uri("memory://nobody-here"), Request(Endpoint), CancellationToken.None).AsTask());
        Assert.Equal(PlexusErrorCode.Unavailable, nobody.Code);
        Assert.True(nobody.BeforeFirstByte);
        Assert.Throws<ArgumentException>(() => client.SendAsync(new Uri("tcp://127.0.0.1:7400"), Request(Endpoint), CancellationToken.None));
    }

    [Fact(Timeout = 60_000)]
    public async Task Draining_ReportsDegradedHealth_ThenStops()
    {
        var factory = new MemoryTransportFactory(new MemoryTransportOptions(), ArrayPool<byte>.Shared);
        await using var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        await using var client = factory.CreateClient();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var endpoint = Register(server, "gated", new DelegateHandler(async (request, _) => await release.Task.WaitAsync(request.RequestAborted)));

        await using var stream = await client.SendAsync(server.Address, Request(endpoint), CancellationToken.None);
        var drain = server.DrainAsync(CancellationToken.None).AsTask();

        Assert.Equal(HealthStatus.Degraded, server.Health.Status);
        release.SetResult();
        Assert.False(await stream.MoveNextAsync().AsTask().WaitAsync(Bound));
        await drain.WaitAsync(Bound);
        Assert.Equal(HealthStatus.Unhealthy, server.Health.Status);
    }

    private static ServiceProvider BuildServices(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        new MemoryPlugin().ConfigureServices(services, configuration);
        return services.BuildServiceProvider();
    }

    private static (EndpointAddress Endpoint, InstanceId Instance) Register(IRequestPlaneServer server, string name, IEndpointHandler handler)
    {
        var endpoint = new EndpointAddress("memory", "tests", name);
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, handler);
        return (endpoint, instance);
    }

    private static OutgoingRequest Request((EndpointAddress Endpoint, InstanceId Instance) target, byte[]? payload = null) =>
        new(target.Endpoint, target.Instance, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(payload ?? []), NoHeaders, Deadline: null);

    private static OutgoingRequest Request(EndpointAddress endpoint) => Request((endpoint, InstanceId.NewId()));

    private static async Task<int> ReadAllAsync(
        IRequestPlaneClient client,
        IRequestPlaneServer server,
        (EndpointAddress Endpoint, InstanceId Instance) target,
        byte[]? payload = null)
    {
        var count = 0;
        await using var stream = await client.SendAsync(server.Address, Request(target, payload), CancellationToken.None);
        while (await stream.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            count++;
        }

        return count;
    }
}
