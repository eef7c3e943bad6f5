using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class RouterStrategyContractTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "ep");

    [Fact]
    public void Picks_the_first_idle_candidate()
    {
        IRouterStrategy router = new FirstIdleRouter();
        RouteCandidate[] candidates = [Candidate(1, 2), Candidate(2, 0), Candidate(3, 0)];

        Assert.Equal(1, router.Pick(candidates, Context(1)));
    }

    [Fact]
    public void When_all_are_busy_the_seeded_random_source_decides()
    {
        IRouterStrategy router = new FirstIdleRouter();
        RouteCandidate[] candidates = [Candidate(1, 2), Candidate(2, 1), Candidate(3, 4)];
        var context = Context(99);
        var replay = new Random(99);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(replay.Next(3), router.Pick(candidates, context));
        }
    }

    [Fact]
    public void A_route_context_carries_the_request_and_an_optional_target()
    {
        var random = new Random(1);
        var target = new InstanceId(7);

        var context = new RouteContext(Endpoint, "req-1", target, random);

        Assert.Equal(Endpoint, context.Endpoint);
        Assert.Equal("req-1", context.RequestId);
        Assert.Equal(target, context.TargetInstance);
        Assert.Same(random, context.Random);
        Assert.Null((context with { TargetInstance = null }).TargetInstance);
    }

    [Fact]
    public void A_route_context_carries_the_request_headers_read_only_and_none_by_default()
    {
        var headers = new Dictionary<string, string> { ["plexus-affinity-key"] = "user-7" };

        var context = new RouteContext(Endpoint, "req-1", null, new Random(1)) { Headers = headers };

        Assert.Empty(new RouteContext(Endpoint, "req-1", null, new Random(1)).Headers);
        Assert.Same(headers, context.Headers);
        Assert.Equal("user-7", context.Headers["plexus-affinity-key"]);
    }

    private static RouteCandidate Candidate(ulong id, int inFlight) =>
        new(new Instance(Endpoint, new InstanceId(id), "loopback", new Uri($"loopback://server-{id}")), inFlight);

    private static RouteContext Context(int seed) => new(Endpoint, "req-1", null, new Random(seed));
}
