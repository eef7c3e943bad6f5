using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Hosting.RequestPlane.Client;

namespace Plexus.Host.Tests.RequestPlane;

public sealed class PlexusClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Round_robin_spreads_calls_over_the_instances_and_returns_their_streams()
    {
        await using var harness = new RouterHarness();
        await harness.AddInstanceAsync("a", 1, ScriptedTransport.Messages("from-a", "end"));
        await harness.AddInstanceAsync("b", 2, ScriptedTransport.Messages("from-b"));

        var results = new List<List<string>>();
        for (var i = 0; i < 4; i++)
        {
            results.Add(await harness.CallAsync().WaitAsync(Bound));
        }

        Assert.Equal(2, harness.Transport.SentTo("a"));
        Assert.Equal(2, harness.Transport.SentTo("b"));
        Assert.Contains(["from-a", "end"], results);
        Assert.Contains(["from-b"], results);
    }

    [Fact]
    public async Task A_failure_before_the_first_response_is_retried_elsewhere_and_the_instance_is_avoided()
    {
        await using var harness = new RouterHarness();
        await harness.AddInstanceAsync("down", 1, ScriptedTransport.FailsBeforeFirstByte(PlexusErrorCode.Unavailable));
        await harness.AddInstanceAsync("up", 2, ScriptedTransport.Messages("ok"));

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(["ok"], await harness.CallAsync().WaitAsync(Bound));
        }

        Assert.Equal(1, harness.Transport.SentTo("down"));
        Assert.Equal(4, harness.Transport.SentTo("up"));
        var states = harness.Router.KnownInstances(RouterHarness.Endpoint);
        Assert.All(states, s => Assert.Equal(0, s.InFlight));
    }

    [Fact]
    public async Task A_failure_after_the_first_response_reaches_the_caller_without_a_retry()
    {
        await using var harness = new RouterHarness(("Plexus:Router:Strategy", "direct"));
        await harness.AddInstanceAsync("flaky", 1, ScriptedTransport.FailsAfterFirstMessage(PlexusErrorCode.Unavailable));
        await harness.AddInstanceAsync("other", 2, ScriptedTransport.Messages("ok"));

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(new CallOptions(Instance: new InstanceId(1))));

        Assert.Equal(PlexusErrorCode.Unavailable, ex.Code);
        Assert.Equal(0, harness.Transport.SentTo("other"));
        Assert.All(harness.Router.KnownInstances(RouterHarness.Endpoint), s => Assert.Equal(0, s.InFlight));
    }

    [Fact]
    public async Task A_handler_error_is_not_retried()
    {
        await using var harness = new RouterHarness();
        await harness.AddInstanceAsync("a", 1, (_, _) => throw new PlexusException(PlexusErrorCode.HandlerError, "bad input"));
        await harness.AddInstanceAsync("b", 2, ScriptedTransport.Messages("ok"));

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync());

        Assert.Equal(PlexusErrorCode.HandlerError, ex.Code);
        Assert.Equal("bad input", ex.Message);
        Assert.Single(harness.Transport.Sent);
    }

    [Fact]
    public async Task Retries_stop_at_the_configured_limit()
    {
        await using var harness = new RouterHarness(("Plexus:Router:MaxRetries", "1"));
        for (ulong i = 1; i <= 4; i++)
        {
            await harness.AddInstanceAsync($"down{i}", i, ScriptedTransport.FailsBeforeFirstByte(PlexusErrorCode.Unavailable));
        }

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync());

        Assert.Equal(PlexusErrorCode.Unavailable, ex.Code);
        Assert.Equal(2, harness.Transport.Sent.Count);
    }

    [Fact]
    public async Task All_instances_busy_fails_fast_with_overloaded()
    {
        await using var harness = new RouterHarness();
        var busy = new Dictionary<string, string> { [InstanceMetadataKeys.Busy] = "true" };
        await harness.AddInstanceAsync("a", 1, ScriptedTransport.Messages("ok"), busy);
        await harness.AddInstanceAsync("b", 2, ScriptedTransport.Messages("ok"), busy);

        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync());

        Assert.Equal(PlexusErrorCode.Overloaded, ex.Code);
        Assert.Contains("test/router/ep", ex.Message, StringComparison.Ordinal);
        Assert.Empty(harness.Transport.Sent);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Busy_instances_are_skipped_and_an_overloaded_answer_marks_one_busy()
    {
        await using var harness = new RouterHarness(("Plexus:Router:MaxInFlightPerInstance", "1"));
        await harness.AddInstanceAsync("slow", 1, ScriptedTransport.Hangs());
        await harness.AddInstanceAsync("full", 2, ScriptedTransport.FailsBeforeFirstByte(PlexusErrorCode.Overloaded));

        using var cancel = new CancellationTokenSource();
        // Holds the slow instance's only slot; the full one answers Overloaded and is marked busy.
        var pending = harness.Router.CallAsync(RouterHarness.Endpoint, default, new CallOptions(Instance: new InstanceId(1)), cancel.Token).AsTask();
        await WaitUntil(() => harness.Router.KnownInstances(RouterHarness.Endpoint).Any(s => s.InFlight == 1));

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync());
        Assert.Equal(PlexusErrorCode.Overloaded, ex.Code);
        Assert.Equal(1, harness.Transport.SentTo("full"));

        ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync());
        Assert.Equal(PlexusErrorCode.Overloaded, ex.Code);
        Assert.Equal(1, harness.Transport.SentTo("full"));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Bound));
        await WaitUntil(() => harness.Router.KnownInstances(RouterHarness.Endpoint).All(s => s.InFlight == 0));
    }

    [Fact]
    public async Task No_instance_is_unavailable_naming_the_endpoint_and_that_discovery_answered()
    {
        await using var harness = new RouterHarness();

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync());

        Assert.Equal(PlexusErrorCode.Unavailable, ex.Code);
        Assert.Contains("test/router/ep", ex.Message, StringComparison.Ordinal);
        Assert.Contains("answered with none", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_slower_than_the_discovery_wait_is_waited_for_instead_of_reported_as_having_no_instance()
    {
        // The watch and the list both take 1.5 s, far past DiscoveryWait (200 ms): a busy machine, not an empty one.
        await using var harness = new RouterHarness(new SlowDiscovery(TimeSpan.FromMilliseconds(1500)));
        await harness.AddInstanceAsync("a", 1, ScriptedTransport.Messages("from-a"));

        Assert.Equal(["from-a"], await harness.CallAsync().WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Discovery_that_does_not_answer_within_the_calls_timeout_is_a_timeout_that_says_so()
    {
        await using var harness = new RouterHarness(new SlowDiscovery(Timeout.InfiniteTimeSpan));
        await harness.AddInstanceAsync("a", 1, ScriptedTransport.Messages("from-a"));

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(new CallOptions(Timeout: TimeSpan.FromMilliseconds(300))).WaitAsync(Bound));

        Assert.Equal(PlexusErrorCode.Timeout, ex.Code);
        Assert.Contains("has not answered", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'slow'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("is registered", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_timeout_the_discovery_answer_wait_bounds_the_wait_and_the_error_says_discovery_has_not_answered()
    {
        await using var harness = new RouterHarness(new SlowDiscovery(Timeout.InfiniteTimeSpan), ("Plexus:Router:DiscoveryAnswerWait", "300ms"));

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync().WaitAsync(Bound));

        Assert.Equal(PlexusErrorCode.Unavailable, ex.Code);
        Assert.Contains("has not answered", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Router:DiscoveryAnswerWait", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_instance_asked_for_by_id_gets_the_call_whatever_the_strategy()
    {
        await using var harness = new RouterHarness(("Plexus:Router:Strategy", "random"));
        await harness.AddInstanceAsync("a", 1, ScriptedTransport.Messages("a"));
        await harness.AddInstanceAsync("b", 2, ScriptedTransport.Messages("b"));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(["b"], await harness.CallAsync(new CallOptions(Instance: new InstanceId(2))));
        }

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(new CallOptions(Instance: new InstanceId(3))));
        Assert.Equal(PlexusErrorCode.Unavailable, ex.Code);
        Assert.Contains("0000000000000003", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_call_timeout_becomes_a_typed_timeout_and_travels_as_a_deadline()
    {
        await using var harness = new RouterHarness();
        await harness.AddInstanceAsync("slow", 1, ScriptedTransport.Hangs());

        var ex = await Assert.ThrowsAsync<PlexusException>(() => harness.CallAsync(new CallOptions(Timeout: TimeSpan.FromMilliseconds(200))).WaitAsync(Bound));

        Assert.Equal(PlexusErrorCode.Timeout, ex.Code);
        var (_, request) = Assert.Single(harness.Transport.Sent);
        Assert.NotNull(request.Deadline);
        Assert.InRange(request.Deadline!.Value - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(-5), TimeSpan.FromSeconds(1));
        Assert.All(harness.Router.KnownInstances(RouterHarness.Endpoint), s => Assert.Equal(0, s.InFlight));
    }

    [Fact]
    public async Task Requests_carry_the_instance_id_a_request_id_headers_and_trace_context()
    {
        await using var harness = new RouterHarness();
        await harness.AddInstanceAsync("a", 0xabc, ScriptedTransport.Messages("ok"));
        using var activity = new Activity("test").SetIdFormat(ActivityIdFormat.W3C).Start();

        await harness.CallAsync(new CallOptions(Headers: new Dictionary<string, string> { ["k"] = "v" }));
        await harness.CallAsync();

        var sent = harness.Transport.Sent.ToArray();
        Assert.Equal(new InstanceId(0xabc), sent[0].Request.Instance);
        Assert.Equal("v", sent[0].Request.Headers["k"]);
        Assert.Equal(activity.Id, sent[0].Request.Headers[PlexusHeaders.TraceParent]);
        Assert.NotEqual(sent[0].Request.RequestId, sent[1].Request.RequestId);
        Assert.Equal(32, sent[0].Request.RequestId.Length);
    }

    [Fact]
    public async Task Instances_removed_from_discovery_are_no_longer_chosen()
    {
        await using var harness = new RouterHarness();
        var gone = await harness.AddInstanceAsync("gone", 1, ScriptedTransport.Messages("gone"));
        await harness.AddInstanceAsync("stays", 2, ScriptedTransport.Messages("stays"));
        await harness.CallAsync();

        await gone.DisposeAsync();
        await WaitUntil(() => harness.Router.KnownInstances(RouterHarness.Endpoint).Count == 1);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(["stays"], await harness.CallAsync());
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task The_container_disposes_the_router_it_also_handed_out_as_IPlexusClient_without_error()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:Discovery:Provider"] = "memory",
            ["Plexus:RequestPlane:Transport"] = "scripted",
            ["Plexus:Router:DiscoveryWait"] = "0ms",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<ITransportFactory>(new ScriptedTransport());
        services.AddPlexus(configuration, NullLoggerFactory.Instance);
        var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IPlexusClient>();
        Assert.Same(provider.GetRequiredService<PlexusClient>(), client);

        // The call watches the endpoint in discovery, which leaves the router something to stop when it is disposed.
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await client.CallAsync(RouterHarness.Endpoint, default));
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);

        await provider.DisposeAsync();
    }
}
