using System.Buffers;
using System.Text;
using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class TransportContractTests
{
    private static readonly EndpointAddress Echo = new("test", "echo", "generate");
    private static readonly InstanceId Id = new(0x75bcd15);

    [Fact]
    public async Task An_echo_request_round_trips_through_the_contracts()
    {
        ITransportFactory factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, new EchoHandler());
        await using var client = factory.CreateClient();

        var stream = await client.SendAsync(server.Address, Request("hello"), CancellationToken.None);
        var messages = await ReadAll(stream);

        Assert.Equal(["hello"], messages.Select(m => Encoding.UTF8.GetString(m)));
        Assert.Equal("loopback", factory.Name);
        Assert.Equal(factory.Name, server.Address.Scheme);
    }

    [Fact]
    public async Task A_handler_streams_several_messages_in_order_including_empty_ones()
    {
        var factory = new LoopbackTransportFactory(responseCapacity: 2);
        var handler = new DelegateHandler(async (request, responses) =>
        {
            for (var i = 0; i < 10; i++)
            {
                await responses.WriteMessageAsync(Encoding.UTF8.GetBytes(i % 3 == 0 ? string.Empty : $"part {i}"), request.RequestAborted);
            }
        });
        await using var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();

        var messages = await ReadAll(await client.SendAsync(server.Address, Request("go"), CancellationToken.None));

        Assert.Equal(
            Enumerable.Range(0, 10).Select(i => i % 3 == 0 ? string.Empty : $"part {i}"),
            messages.Select(m => Encoding.UTF8.GetString(m)));
    }

    [Fact]
    public async Task The_handler_sees_the_request_as_sent()
    {
        RequestContext? seen = null;
        string? payload = null;
        var handler = new DelegateHandler((request, _) =>
        {
            seen = request;
            payload = Encoding.UTF8.GetString(request.Payload);
            return ValueTask.CompletedTask;
        });
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);
        var headers = new Dictionary<string, string> { [PlexusHeaders.TraceParent] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
        var request = new OutgoingRequest(Echo, Id, "req-42", new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("payload")), headers, deadline);

        await ReadAll(await client.SendAsync(server.Address, request, CancellationToken.None));

        Assert.NotNull(seen);
        Assert.Equal(Echo, seen.Endpoint);
        Assert.Equal("req-42", seen.RequestId);
        Assert.Equal("payload", payload);
        Assert.Equal(deadline, seen.Deadline);
        Assert.Equal(headers[PlexusHeaders.TraceParent], seen.Headers[PlexusHeaders.TraceParent]);
    }

    [Fact]
    public async Task A_handler_exception_reaches_the_client_as_a_handler_error_with_its_message()
    {
        var handler = new DelegateHandler(async (_, responses) =>
        {
            await responses.WriteMessageAsync("first"u8.ToArray());
            throw new InvalidOperationException("model not loaded");
        });
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();
        await using var stream = await client.SendAsync(server.Address, Request("x"), CancellationToken.None);

        Assert.True(await stream.MoveNextAsync());
        Assert.Equal("first", Encoding.UTF8.GetString(stream.Current));
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await stream.MoveNextAsync());

        Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
        Assert.Equal("model not loaded", error.Message);
    }

    [Fact]
    public async Task A_plexus_exception_from_a_handler_keeps_its_code()
    {
        var handler = new DelegateHandler((_, _) => throw new PlexusException(PlexusErrorCode.Overloaded, "queue full"));
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();

        var error = await Assert.ThrowsAsync<PlexusException>(async () => await ReadAll(await client.SendAsync(server.Address, Request("x"), CancellationToken.None)));

        Assert.Equal(PlexusErrorCode.Overloaded, error.Code);
        Assert.Equal("queue full", error.Message);
    }

    [Fact]
    public async Task A_request_for_another_instance_is_unavailable_and_may_be_retried()
    {
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, new EchoHandler());
        await using var client = factory.CreateClient();
        var request = Request("x") with { Instance = new InstanceId(1) };

        var error = await Assert.ThrowsAsync<PlexusException>(async () => await client.SendAsync(server.Address, request, CancellationToken.None));

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.True(error.BeforeFirstByte);
        Assert.Contains(Id.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unregistered_endpoint_or_unknown_address_is_unavailable()
    {
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, new EchoHandler());
        await using var client = factory.CreateClient();

        Assert.True(server.Unregister(Echo));
        Assert.False(server.Unregister(Echo));
        var unregistered = await Assert.ThrowsAsync<PlexusException>(async () => await client.SendAsync(server.Address, Request("x"), CancellationToken.None));
        var nowhere = await Assert.ThrowsAsync<PlexusException>(async () => await client.SendAsync(new Uri("loopback://nowhere"), Request("x"), CancellationToken.None));

        Assert.Equal(PlexusErrorCode.Unavailable, unregistered.Code);
        Assert.Contains(Echo.ToString(), unregistered.Message, StringComparison.Ordinal);
        Assert.Equal(PlexusErrorCode.Unavailable, nowhere.Code);
    }

    [Fact]
    public async Task Registering_an_endpoint_twice_is_refused()
    {
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, new EchoHandler());

        Assert.Throws<InvalidOperationException>(() => server.Register(Echo, Id, new EchoHandler()));
    }

    [Fact]
    public async Task Disposing_the_stream_early_cancels_the_handler()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler(async (request, responses) =>
        {
            await using var registration = request.RequestAborted.Register(() => cancelled.TrySetResult());
            await responses.WriteMessageAsync("one"u8.ToArray(), request.RequestAborted);
            await Task.Delay(Timeout.Infinite, request.RequestAborted);
        });
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();

        var stream = await client.SendAsync(server.Address, Request("x"), CancellationToken.None);
        Assert.True(await stream.MoveNextAsync());
        await stream.DisposeAsync();

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(cancelled.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Cancelling_while_reading_cancels_the_request()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler(async (request, _) =>
        {
            await using var registration = request.RequestAborted.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, request.RequestAborted);
        });
        var factory = new LoopbackTransportFactory();
        await using var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();
        using var cts = new CancellationTokenSource();

        await using var stream = await client.SendAsync(server.Address, Request("x"), cts.Token);
        var reading = stream.MoveNextAsync(cts.Token).AsTask();
        await cts.CancelAsync();

        var error = await Assert.ThrowsAsync<PlexusException>(() => reading);
        Assert.Equal(PlexusErrorCode.Cancelled, error.Code);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Drain_refuses_new_requests_and_lets_in_flight_ones_finish()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler(async (_, responses) =>
        {
            started.TrySetResult();
            await release.Task;
            responses.WriteMessage("done"u8);
        });
        var factory = new LoopbackTransportFactory();
        var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();
        var address = server.Address;

        var inFlight = await client.SendAsync(address, Request("x"), CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var draining = server.DrainAsync(CancellationToken.None).AsTask();

        Assert.Equal(HealthStatus.Degraded, server.Health.Status);
        Assert.False(draining.IsCompleted);
        var refused = await Assert.ThrowsAsync<PlexusException>(async () => await client.SendAsync(address, Request("y"), CancellationToken.None));
        Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);

        release.SetResult();
        await draining.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["done"], (await ReadAll(inFlight)).Select(m => Encoding.UTF8.GetString(m)));
        Assert.Equal(HealthStatus.Unhealthy, server.Health.Status);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Disposing_the_server_fails_in_flight_requests_as_unavailable()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler(async (request, _) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, request.RequestAborted);
        });
        var factory = new LoopbackTransportFactory();
        var server = await StartAsync(factory, handler);
        await using var client = factory.CreateClient();

        await using var stream = await client.SendAsync(server.Address, Request("x"), CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await server.DisposeAsync();

        var error = await Assert.ThrowsAsync<PlexusException>(async () => await stream.MoveNextAsync());
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
    }

    [Fact]
    public void A_new_server_is_not_healthy_until_started()
    {
        var server = new LoopbackTransportFactory().CreateServer();

        Assert.Equal(HealthStatus.Unhealthy, server.Health.Status);
        Assert.False(string.IsNullOrEmpty(server.Health.Description));
        Assert.Throws<InvalidOperationException>(() => server.Address);
        Assert.Equal(string.Empty, TransportHealth.Healthy.Description);
    }

    private static async Task<IRequestPlaneServer> StartAsync(ITransportFactory factory, IEndpointHandler handler)
    {
        var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None);
        server.Register(Echo, Id, handler);
        Assert.Equal(HealthStatus.Healthy, server.Health.Status);
        return server;
    }

    private static OutgoingRequest Request(string payload) =>
        new(Echo, Id, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(payload)), new Dictionary<string, string>(), null);

    private static async Task<List<byte[]>> ReadAll(IResponseStream stream)
    {
        var messages = new List<byte[]>();
        await foreach (var message in stream.ReadAllAsync())
        {
            messages.Add(message);
        }

        return messages;
    }
}
